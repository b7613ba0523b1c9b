"""Every figure of the import issue, in one command.

    python benchmarks/bench_import.py            # full sizes (several minutes)
    python benchmarks/bench_import.py --quick    # small sizes, a smoke run

Runs, one after another on the same machine:
- bench_import_discord.py: DCE CSVs of 300,000 and 1M messages, the whole `friendsim-tui import` against a
  plain reference import in the same run (target >= 1.5x its messages/s), where the time goes, and a 1 GB
  DCE JSON (target peak RSS <= 300 MB);
- bench_import_whatsapp.py: our WhatsApp parser vs chat-miner on the same 200,000-message export (>= 5x;
  needs the `bench` extra: pip install -e ".[bench]");
- bench_startup.py: `friendsim-tui --help` (< 0.5 s) and the home screen drawn (< 1.5 s).
Exits non-zero when any part misses its target or cannot run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    parts = [
        ["bench_import_discord.py", *(["--quick"] if quick else [])],
        ["bench_import_whatsapp.py", *(["--messages", "20000", "--repeat", "1"] if quick else [])],
        ["bench_startup.py", *(["--repeat", "2"] if quick else [])],
    ]
    failed = []
    for script, *args in parts:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / script), *args])
        if rc != 0:
            failed.append(f"{script} (exit {rc})")
    print("\n=== " + ("all import targets met" if not failed else "missed or could not run: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
