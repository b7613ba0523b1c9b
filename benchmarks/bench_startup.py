"""Startup speed: ``friendsim-tui --help`` and the time until the home screen is drawn.

    python benchmarks/bench_startup.py [--repeat 5] [--messages 20000]

Each figure is measured in a fresh process (imports included), best of ``--repeat`` runs:

- ``--help``: wall time of ``friendsim-tui --help`` (target 0.5 s).
- home drawn: from starting a process to the app's first frame of the home screen, headless at
  100x30 (target 1.5 s); also reported: until the workspace list and the selected workspace's
  summary have loaded from a workspace of ``--messages`` messages.

Exits 2 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELP_TARGET = 0.5
HOME_TARGET = 1.5

# Runs in a fresh interpreter; prints the wall-clock times (time.time()) of each milestone as JSON.
CHILD = r"""
import asyncio, json, sys, time
from friendsim_tui.tui.app import FriendSimApp

async def main():
    app = FriendSimApp(cursor_blink=False)
    marks = {}
    async with app.run_test(size=(100, 30)) as pilot:
        marks["drawn"] = time.time()  # run_test returns once the first screen is mounted and painted
        while getattr(app.screen, "summary", None) is None:
            await pilot.pause(0.005)
        marks["loaded"] = time.time()
    print(json.dumps(marks))

asyncio.run(main())
"""


def _help_command() -> list[str]:
    exe = shutil.which("friendsim-tui")
    return [exe, "--help"] if exe else [sys.executable, "-m", "friendsim_tui", "--help"]


def time_help(repeat: int) -> list[float]:
    cmd = _help_command()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def make_workspace(data_dir: Path, messages: int) -> None:
    from friendsim_tui import paths
    from friendsim_tui.services.importing import import_paths

    paths.set_data_dir(data_dir)
    names = ["Maya", "Jonas", "pixel_dan", "Priya", "Sam"]
    src = data_dir / "chat.txt"
    src.write_text("".join(f"{names[i % 5]}: message number {i}\n" for i in range(messages)), encoding="utf-8")
    import_paths("weekend-crew", [src])
    import_paths("family", [src])
    src.unlink()


def time_home(data_dir: Path, repeat: int) -> tuple[list[float], list[float]]:
    env = dict(os.environ, FRIENDSIM_HOME=str(data_dir))
    drawn, loaded = [], []
    for _ in range(repeat):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True, env=env, cwd=ROOT)
        marks = json.loads(out.stdout.strip().splitlines()[-1])
        drawn.append(marks["drawn"] - start)
        loaded.append(marks["loaded"] - start)
    return drawn, loaded


def _line(label: str, times: list[float], target: float | None) -> bool:
    best = min(times)
    ok = target is None or best <= target
    goal = f"target {target:.1f} s  {'ok' if ok else 'MISSED'}" if target else ""
    print(f"{label:<34} best {best:6.3f} s  median {statistics.median(times):6.3f} s  {goal}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--messages", type=int, default=20_000, help="messages in each benchmark workspace")
    args = ap.parse_args()
    ok = _line("friendsim-tui --help", time_help(args.repeat), HELP_TARGET)
    with tempfile.TemporaryDirectory() as tmp:
        make_workspace(Path(tmp), args.messages)
        drawn, loaded = time_home(Path(tmp), args.repeat)
    ok &= _line("home screen drawn (process start)", drawn, HOME_TARGET)
    _line(f"home with data ({args.messages:,} msgs x 2)", loaded, None)
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
