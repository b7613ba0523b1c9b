"""Workspaces and their speakers, for the CLI and the app: list, rename, merge, leave out of training.

Nothing else opens a workspace's store to change its speakers. Each call opens its own Store and closes
it before returning, so any thread may call it. A change that finds another import writing to the
workspace waits for it, telling ``on_wait`` (one line of text) that it does, and fails with
:class:`~friendsim_tui.store.db.WorkspaceBusy` (a StoreError) if that takes too long.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable

from friendsim_tui import paths
from friendsim_tui.store.db import DB_NAME, Speaker, Store, StoreError

OnWait = Callable[[str], None]


class SpeakerNotFound(StoreError):
    def __init__(self, workspace: str, name: str):
        super().__init__(f"no speaker named {name!r} in {workspace} (see `friendsim-tui speakers -w {workspace}`)")


@dataclass(frozen=True)
class Overview:
    messages: int
    date_range: tuple[float, float] | None
    speakers: list[Speaker]


def list_workspaces() -> list[dict]:
    """Every workspace with its counts, by name; a damaged one has an ``error`` instead of counts."""
    root = paths.workspaces_dir()
    out = []
    if not root.is_dir():
        return out
    for folder in sorted(root.iterdir(), key=lambda p: p.name.lower()):
        db = folder / DB_NAME
        if not db.is_file():
            continue
        entry = {"name": folder.name, "messages": 0, "speakers": 0, "date_range": None, "path": str(folder)}
        try:
            with Store(db, name=folder.name) as store:
                entry.update(
                    messages=store.message_count(), speakers=len(store.speakers()), date_range=store.date_range()
                )
        except (sqlite3.DatabaseError, StoreError) as exc:
            # One damaged workspace must not hide the others; say what is wrong with it.
            entry["error"] = f"{db}: cannot be read ({getattr(exc, 'detail', exc)})"
        out.append(entry)
    return out


def workspace_exists(name: str) -> bool:
    try:
        return (paths.workspace_dir(name) / DB_NAME).is_file()
    except paths.WorkspaceNameError:
        return False


def create_workspace(name: str) -> None:
    Store.for_workspace(name, create=True).close()


def overview(workspace: str) -> Overview:
    with Store.for_workspace(workspace) as store:
        return Overview(store.message_count(), store.date_range(), store.speakers())


def speakers(workspace: str) -> list[Speaker]:
    """The workspace's speakers, most messages first."""
    with Store.for_workspace(workspace) as store:
        return store.speakers()


def accounts(workspace: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """{(source, key): (friend, left out of training)} for every account the workspace has messages from:
    a re-import puts that account's messages with the same friend, whatever its name in the export."""
    with Store.for_workspace(workspace) as store:
        rows = store.conn.execute(
            "SELECT a.source, a.key, s.name, s.excluded FROM aliases a JOIN speakers s ON s.id = a.speaker_id"
        )
        return {(source, key): (name, bool(excluded)) for source, key, name, excluded in rows}


def find_speaker(workspace: str, name: str) -> Speaker:
    """The speaker called ``name`` (ignoring case) or having it as an alias; SpeakerNotFound if none."""
    with Store.for_workspace(workspace) as store:
        return _find(store, workspace, name)


def rename_speaker(workspace: str, speaker: int | str, new_name: str, on_wait: OnWait | None = None) -> int:
    """Rename a speaker (an id, or a name as the user typed it); another speaker's name merges the two.

    Returns the id of the speaker that remains.
    """
    with Store.for_workspace(workspace, on_wait=on_wait) as store:
        return store.rename_speaker(_id(store, workspace, speaker), new_name)


def merge_speakers(workspace: str, speaker: int | str, into: int | str, on_wait: OnWait | None = None) -> int:
    """Make ``speaker`` part of ``into`` (its messages and aliases too). Returns the id of ``into``."""
    with Store.for_workspace(workspace, on_wait=on_wait) as store:
        target = _id(store, workspace, into)
        name = store.conn.execute("SELECT name FROM speakers WHERE id=?", (target,)).fetchone()[0]
        return store.rename_speaker(_id(store, workspace, speaker), name)


def set_excluded(workspace: str, speaker: int | str, excluded: bool, on_wait: OnWait | None = None) -> None:
    """Leave a speaker out of training (``excluded``), or take it back in."""
    with Store.for_workspace(workspace, on_wait=on_wait) as store:
        store.set_excluded(_id(store, workspace, speaker), excluded)


def _find(store: Store, workspace: str, name: str) -> Speaker:
    found = store.speaker_by_name(name)
    if found is None:
        raise SpeakerNotFound(workspace, name)
    return found


def _id(store: Store, workspace: str, speaker: int | str) -> int:
    return speaker if isinstance(speaker, int) else _find(store, workspace, speaker).id
