"""The chat sessions of a workspace: open any of them, name them, delete them.

From the chat (ctrl+o) or the chat setup (s). The list reads and writes through services.sessions in
thread workers. The screen returns what the person chose: ``("open", session)``, ``("new", None)`` (a
new session with the chat's run and friend; offered only from the chat) or None.
"""

from __future__ import annotations

import time
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from friendsim_tui.services import sessions as session_service
from friendsim_tui.store.chats import ChatSession
from friendsim_tui.tui.screens.dialogs import ChoicePrompt, TextPrompt
from friendsim_tui.tui.text import inert, inert_content, plural


def last_used(ts: float, now: float | None = None) -> str:
    """``today 21:14``, ``yesterday 09:02``, ``Nov 27`` (this year) or ``2024-11-27``."""
    when = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    days = (today - when.date()).days
    if days == 0:
        return f"today {when:%H:%M}"
    if days == 1:
        return f"yesterday {when:%H:%M}"
    if when.year == today.year and days > 0:
        return f"{when:%b} {when.day}"
    return f"{when:%Y-%m-%d}"


class SessionsScreen(Screen["tuple[str, ChatSession | None] | None"]):
    HELP_TITLE = "Sessions"
    BINDINGS = [
        Binding("n", "new", "New", tooltip="A new session with the chat's run and friend"),
        Binding("r", "rename", "Rename", tooltip="Name the highlighted session"),
        Binding("delete", "delete", "Delete", key_display="del", tooltip="Delete the highlighted session"),
        Binding("escape", "back", "Back"),
    ]

    class Loaded(Message):
        def __init__(self, sessions: list[ChatSession] | None, error: str | None = None) -> None:
            super().__init__()
            self.sessions = sessions
            self.error = error

    class Changed(Message):
        """A rename or delete was saved (or failed: ``error``)."""

        def __init__(self, error: str | None = None) -> None:
            super().__init__()
            self.error = error

    def __init__(self, workspace: str, *, current: int | None = None, can_new: bool = False) -> None:
        super().__init__(id="sessions")
        self.workspace = workspace
        self.current = current
        """The session open in the chat below, if any (marked, and not deleted from here)."""
        self.can_new = can_new
        self.sessions: list[ChatSession] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble("Sessions · ", inert_content(self.workspace)), id="sessions-title")
        listing = OptionList(id="sessions-list")
        listing.border_title = Content("Most recently used first")
        yield listing
        yield Static(Content("Loading sessions…").stylize("dim"), id="sessions-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="sessions", exit_on_error=False)
    def _load(self) -> None:
        try:
            found = session_service.list_sessions(self.workspace)
        except Exception as exc:
            self.post_message(self.Loaded(None, f"cannot read the sessions: {exc}"))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        note = self.query_one("#sessions-note", Static)
        listing = self.query_one("#sessions-list", OptionList)
        if message.error:
            note.update(inert_content(message.error))
            return
        keep = self._highlighted()
        self.sessions = message.sessions or []
        listing.set_options(Option(self._row(s), id=f"s{s.id}") for s in self.sessions)
        if not self.sessions:
            note.update(Content("No sessions yet: a chat starts one."))
        else:
            ids = [s.id for s in self.sessions]
            wanted = keep.id if keep is not None and keep.id in ids else self.current
            listing.highlighted = ids.index(wanted) if wanted in ids else 0
            self._show_note()
        listing.focus()
        self.refresh_bindings()

    def _row(self, s: ChatSession) -> Content:
        """``▸ karaoke plans    as Maya    42 turns  3 branches  today 21:14`` in 76 cells (the run is in the note
        below the list, for the highlighted session)."""
        mark = ("▸ ", "bold $accent") if s.id == self.current else "  "
        name = inert(session_service.session_name(s, 18), 20)
        who = inert(f"as {s.player}", 13)
        branches = plural(s.branches, "branch", "branches") if s.branches > 1 else ""
        return Content.assemble(
            mark, (f"{name:<21}", "bold"), f"{who:<14}", f"{plural(s.turns, 'turn'):>9}  {branches:<12}",
            (last_used(s.updated), "$text-muted"),
        )

    @on(OptionList.OptionHighlighted, "#sessions-list")
    def _show_note(self) -> None:
        session = self._highlighted()
        if session is not None:
            self.query_one("#sessions-note", Static).update(Content.assemble(
                "run ", inert_content(session.run, limit=30), f" · started {last_used(session.created)}",
                " · enter opens it"))

    def _highlighted(self) -> ChatSession | None:
        listing = self.query_one("#sessions-list", OptionList)
        if not self.sessions or listing.highlighted is None or listing.highlighted >= len(self.sessions):
            return None
        return self.sessions[listing.highlighted]

    @on(OptionList.OptionSelected, "#sessions-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.sessions:
            self.dismiss(("open", self.sessions[event.option_index]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            return self.can_new
        if action in ("rename", "delete"):
            return True if self._highlighted() is not None else None
        return True

    def action_new(self) -> None:
        if self.can_new:
            self.dismiss(("new", None))

    def action_rename(self) -> None:
        session = self._highlighted()
        if session is None:
            return

        def named(title: str | None) -> None:
            if title:
                self._write(lambda: session_service.rename_session(self.workspace, session.id, title))

        self.app.push_screen(TextPrompt(
            Content.assemble("Name ", inert_content(session_service.session_name(session), limit=40)),
            value=session.title, hint=Content("Shown in this list (and by `friendsim-tui sessions`).")), named)

    def action_delete(self) -> None:
        session = self._highlighted()
        if session is None:
            return
        if session.id == self.current:
            self.notify("That session is open in the chat: start a new one there first (ctrl+n).",
                        severity="warning")
            return
        yes = "Delete it and all its turns"

        def chosen(answer: str | None) -> None:
            if answer == yes:
                self._write(lambda: session_service.delete_session(self.workspace, session.id))

        self.app.push_screen(ChoicePrompt(Content.assemble(
            "Delete ", inert_content(session_service.session_name(session), limit=40), "?"), [yes, "Keep it"]),
            chosen)

    @work(thread=True, group="session-writes", exit_on_error=False)
    def _write(self, change) -> None:
        try:
            change()
        except Exception as exc:
            self.post_message(self.Changed(f"could not save: {exc}"))
            return
        self.post_message(self.Changed())

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        if message.error:
            self.notify(message.error, title="Sessions", severity="error", markup=False)
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)
