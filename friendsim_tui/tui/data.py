"""What the screens read and change in workspaces. Called from thread workers, never on the event loop.

The workspaces service does the work (it opens a Store per call); this module shapes it for the screens.
"""

from __future__ import annotations

from dataclasses import dataclass

from friendsim_tui.services import workspaces
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
    return [
        WorkspaceInfo(w["name"], w["messages"], w["speakers"], w.get("error")) for w in workspaces.list_workspaces()
    ]


workspace_exists = workspaces.workspace_exists


def load_summary(name: str) -> WorkspaceSummary:
    o = workspaces.overview(name)
    return WorkspaceSummary(name, o.messages, o.date_range, tuple(o.speakers), runs=tuple(_runs(name)))


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
    return [s.name for s in workspaces.speakers(name)]


create_workspace = workspaces.create_workspace


def rename_speaker(workspace: str, speaker_id: int, new_name: str) -> None:
    """Rename; an existing name merges the two speakers (see Store.rename_speaker)."""
    workspaces.rename_speaker(workspace, speaker_id, new_name)


set_excluded = workspaces.set_excluded
