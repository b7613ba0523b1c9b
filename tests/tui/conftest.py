"""Fixtures for the app's Pilot and snapshot tests: a private data dir, a home folder, workspaces.

Paths on screen are shown relative to the home folder (``~/exports/...``), so HOME points into the
temporary folder and snapshots never hold a temporary path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest

from friendsim_tui import paths
from friendsim_tui.services.importing import import_paths

SIZE = (100, 30)

WEEKEND_CREW = """\
Maya: omg the ramen place was SO good lol
Jonas: Well, to be fair, the train was late again.
pixel_dan: bro the patch notes are cooked
Maya: who's up for karaoke friday?
Jonas: Hmm. Depends on the weather.
Maya: it's INDOORS jonas
pixel_dan: say less
Maya: 8pm then
Jonas: Right. 8pm.
Maya: bring snacks
"""

FAMILY = """\
Mum: dinner at 7
Dad: I'll bring the bread.
Mum: thanks love
"""

NEW_CHAT = """\
Maya: did anyone see the match
Ravi: yes!! what a finish
Ravi: still can't believe it
Maya: same
NewBot: Reminder: trash day
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder (HOME points here) and a private data dir for workspaces."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    paths.set_data_dir(tmp_path / "data")
    yield home
    paths.set_data_dir(None)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def workspaces(home: Path) -> Path:
    """Two workspaces built with the import service, and an ``~/exports`` folder of new files to import."""
    src = home / "sources"
    import_paths("weekend-crew", [write(src / "weekend.txt", WEEKEND_CREW)])
    import_paths("family", [write(src / "family.txt", FAMILY)])
    exports = home / "exports"
    write(exports / "new chat.txt", NEW_CHAT)
    (exports / "junk.bin").write_bytes(b"\x00\x01\x02binary\xff\xfe junk" * 10)
    return exports


@pytest.fixture
def make_app(home: Path):
    from friendsim_tui.tui.app import FriendSimApp

    def make(start_dir: Path | None = None) -> FriendSimApp:
        return FriendSimApp(start_dir=start_dir or home / "exports", cursor_blink=False)

    return make


@pytest.fixture
def wait_until() -> Callable:
    """``await wait_until(pilot, predicate, what)``: poll the UI instead of sleeping blindly."""

    async def wait(pilot, predicate: Callable[[], object], what: str = "condition", timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            await pilot.pause()
            try:
                if predicate():
                    return
            except Exception:  # e.g. a widget not mounted yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await pilot.pause(0.02)

    return wait
