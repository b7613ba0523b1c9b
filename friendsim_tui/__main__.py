from friendsim_tui.cli import main

raise SystemExit(main())
