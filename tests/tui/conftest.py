"""Fixtures for the app's Pilot and snapshot tests: a private data dir, a home folder, workspaces.

Paths on screen are shown relative to the home folder (``~/exports/...``), so HOME points into the
temporary folder and snapshots never hold a temporary path.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
from tui_helpers import FAMILY, HOSTILE, NEW_CHAT, WEEKEND_CREW, write

from friendsim_tui import paths
from friendsim_tui.services.importing import import_paths


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    """Run ``async def`` tests on a fresh asyncio loop (no async plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder (HOME points here) and a private data dir for workspaces."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    paths.set_data_dir(tmp_path / "data")
    yield home
    paths.set_data_dir(None)


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
def hostile(home: Path) -> Path:
    """A workspace ``markup`` whose speaker names and messages hold markup and escapes, and a folder
    ``~/hostile`` with an export named like a markup action too."""
    import_paths("markup", [write(home / "sources" / "markup.txt", HOSTILE)])
    folder = home / "hostile"
    write(folder / "[@click=app.quit]chat.txt", HOSTILE)
    return folder
