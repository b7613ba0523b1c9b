"""Typed messages that workers post back to the screens (``post_message`` is thread-safe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from friendsim_tui.importers.base import ChatImportError
    from friendsim_tui.turns import Turn
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
    def __init__(self, paths: list, preview: Preview) -> None:
        super().__init__()
        self.paths = paths
        """The selection that was read (a newer selection makes this preview stale)."""
        self.preview = preview


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


# -- Chat and Conversation from a prompt ------------------------------------------------------------


class ModelLoaded(Message):
    """A run's model is loaded (``sampler``: an engine Sampler or anything with its interface)."""

    def __init__(self, run: str, sampler: object) -> None:
        super().__init__()
        self.run = run
        self.sampler = sampler


class ModelFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class SessionOpened(Message):
    """A chat session was resumed or started: the session and the turns of its current path."""

    def __init__(self, session: object, turns: list) -> None:
        super().__init__()
        self.session = session
        self.turns = turns


class CandidateSampled(Message):
    """One candidate arrived while sampling (request ``token``)."""

    def __init__(self, token: int, turn: Turn) -> None:
        super().__init__()
        self.token = token
        self.turn = turn


class SamplingDone(Message):
    """Sampling request ``token`` ended: ``results`` (candidate turns, or conversations: lists of turns), or
    ``error``."""

    def __init__(self, token: int, kind: str, results: list, error: str | None = None,
                 cancelled: bool = False, seconds: float = 0.0) -> None:
        super().__init__()
        self.token = token
        self.kind = kind
        self.results = results
        self.error = error
        self.cancelled = cancelled
        self.seconds = seconds


class ConversationSampled(Message):
    """One whole conversation arrived while sampling (request ``token``)."""

    def __init__(self, token: int, turns: list[Turn]) -> None:
        super().__init__()
        self.token = token
        self.turns = turns


class FileSaved(Message):
    """An export was written (``path``), or could not be (``error``)."""

    def __init__(self, path: object = None, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error
