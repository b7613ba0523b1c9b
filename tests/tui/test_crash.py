"""A bug that reaches the top of the app ends it with one line naming a private log, never a traceback
with local variables (which would hold the user's messages) on the screen."""

from __future__ import annotations

import stat

import pytest
from textual.binding import Binding

from chat_helpers import APP_CSS

from friendsim_tui import paths
from friendsim_tui.tui.app import FriendSimApp

SECRET = "my pin is 4321 \x1b[31m"


class Crashing(FriendSimApp):
    CSS_PATH = APP_CSS
    BINDINGS = [Binding("ctrl+k", "crash", "Crash")]

    def action_crash(self) -> None:
        message = SECRET  # a local holding private text, as a real handler's would
        raise RuntimeError(f"the handler broke on {message!s}")


async def test_an_unhandled_error_ends_the_app_with_one_line_and_a_private_log(home, capfd):
    app = Crashing(start_dir=home, cursor_blink=False)
    with pytest.raises(RuntimeError):  # Pilot re-raises it for the test; a user sees run_app's one line
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+k")
            await pilot.pause()
    assert app.return_code == 1
    assert "Traceback" not in capfd.readouterr().err  # Textual printed no report of its own
    line = app.crash_report
    assert "\n" not in line and "message" not in line
    assert line.startswith("friendsim-tui: unexpected error (RuntimeError: the handler broke on my pin is 4321 ␛[31m)")
    log = paths.logs_dir() / line.rsplit("/", 1)[1]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "action_crash" in details
