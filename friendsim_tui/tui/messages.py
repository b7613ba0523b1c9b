"""Typed messages that workers post back to the screens (``post_message`` is thread-safe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from friendsim_tui.importers.base import ChatImportError
    from friendsim_tui.services.importing import ImportResult, Preview
    from friendsim_tui.tui.data import WorkspaceInfo, WorkspaceSummary


class WorkspacesLoaded(Message):
    def __init__(self, workspaces: list[WorkspaceInfo]) -> None:
        super().__init__()
        self.workspaces = workspaces


class WorkspaceLoaded(Message):
    def __init__(self, summary: WorkspaceSummary) -> None:
        super().__init__()
        self.summary = summary


class WorkspaceFailed(Message):
    """Reading or changing a workspace failed; ``error`` is one line for the user."""

    def __init__(self, name: str, error: str) -> None:
        super().__init__()
        self.name = name
        self.error = error


class PreviewReady(Message):
    def __init__(self, paths: list, preview: Preview, existing: list[str]) -> None:
        super().__init__()
        self.paths = paths
        self.preview = preview
        self.existing = existing
        """Speaker names already in the target workspace."""


class WorkProgress(Message):
    """Progress of a preview or import: ``fraction`` of all files, and what is being read."""

    def __init__(self, fraction: float, label: str) -> None:
        super().__init__()
        self.fraction = fraction
        self.label = label


class ImportFinished(Message):
    def __init__(self, result: ImportResult) -> None:
        super().__init__()
        self.result = result


class ImportFailed(Message):
    def __init__(self, error: ChatImportError | str) -> None:
        super().__init__()
        self.error = error


class WorkspaceChanged(Message):
    """A change (new workspace, rename, exclusion) was saved; ``note`` says what, for a notification."""

    def __init__(self, name: str, note: str) -> None:
        super().__init__()
        self.name = name
        self.note = note


class PreviewFailed(Message):
    """The selection could not be read at all (e.g. a folder without permission)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TargetChecked(Message):
    """The speakers already in the import's target workspace (empty for a new one)."""

    def __init__(self, target: str, exists: bool, existing: list[str]) -> None:
        super().__init__()
        self.target = target
        self.exists = exists
        self.existing = existing
