"""What the screens read and change in workspaces. Called from thread workers, never on the event loop.

Each call opens its own Store (a connection belongs to one thread) and closes it before returning.
"""

from __future__ import annotations

from dataclasses import dataclass

from friendsim_tui.store import Store
from friendsim_tui.store.db import Speaker


@dataclass(frozen=True)
class WorkspaceInfo:
    name: str
    messages: int
    speakers: int
    error: str | None = None
    """Why the workspace's database cannot be read, when it cannot."""


@dataclass(frozen=True)
class WorkspaceSummary:
    name: str
    messages: int
    date_range: tuple[float, float] | None
    speakers: tuple[Speaker, ...]
    runs: tuple[dict, ...] = ()
    """Training runs, newest first (services.training.list_runs)."""

    @property
    def friends(self) -> int:
        """Speakers that take part in training."""
        return sum(1 for s in self.speakers if not s.excluded)


def list_workspaces() -> list[WorkspaceInfo]:
    from friendsim_tui.services.importing import list_workspaces as _list

    return [WorkspaceInfo(w["name"], w["messages"], w["speakers"], w.get("error")) for w in _list()]


def workspace_exists(name: str) -> bool:
    from friendsim_tui import paths
    from friendsim_tui.store.db import DB_NAME

    try:
        return (paths.workspace_dir(name) / DB_NAME).is_file()
    except paths.WorkspaceNameError:
        return False


def load_summary(name: str) -> WorkspaceSummary:
    with Store.for_workspace(name) as store:
        counts = store.message_count(), store.date_range(), tuple(store.speakers())
    return WorkspaceSummary(name, *counts, runs=tuple(_runs(name)))


def _runs(name: str) -> list[dict]:
    from friendsim_tui.services import training

    try:
        return training.list_runs(name)
    except Exception:  # a damaged run folder must not hide the workspace
        return []


def speaker_names(name: str) -> list[str]:
    """Display names of a workspace's speakers; empty when the workspace does not exist yet."""
    if not workspace_exists(name):
        return []
    with Store.for_workspace(name) as store:
        return [s.name for s in store.speakers()]


def create_workspace(name: str) -> None:
    Store.for_workspace(name, create=True).close()


def rename_speaker(workspace: str, speaker_id: int, new_name: str) -> None:
    """Rename; an existing name merges the two speakers (see Store.rename_speaker)."""
    with Store.for_workspace(workspace) as store:
        store.rename_speaker(speaker_id, new_name)


def set_excluded(workspace: str, speaker_id: int, excluded: bool) -> None:
    with Store.for_workspace(workspace) as store:
        store.set_excluded(speaker_id, excluded)
