"""Role-play: chat with the others as the friend you play.

The model is loaded once per screen in a thread worker; every sampling request runs in another
(exclusive) thread worker and streams candidates back as messages. Session writes go through one
writer thread in order (:class:`~friendsim_tui.services.sessions.SessionWriter`), so the event loop never
touches SQLite or torch.

Typing always goes to the input, whatever has the focus: no key typed in a sentence runs an action. The
candidate list, focused, picks with 1–9 or enter. Everything else is a chord, a function key, esc or
enter: ctrl+r more candidates for the same turn (swipe), F2 edit the highlighted candidate then take it,
ctrl+z undo, alt+← / alt+→ the previous / next saved branch where the chat last split, ctrl+g suggest your
own line, ctrl+f force who answers, ctrl+s settings, ctrl+e export, ctrl+n a new session; in the input,
enter sends what you typed, or with nothing typed lets the others keep talking; esc leaves the input for
the list, and elsewhere leaves the chat.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Input, OptionList, Static

from friendsim_tui.services.chat import Sampler, Turn, settings_from
from friendsim_tui.services.sessions import SessionWriter, export_path, write_private
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.messages import (
    CandidateSampled,
    FileSaved,
    ModelFailed,
    ModelLoaded,
    SamplingDone,
    SessionOpened,
)
from friendsim_tui.tui.screens.dialogs import ChoicePrompt, TextPrompt
from friendsim_tui.tui.screens.model_screen import ModelScreen, OpenSampler, chat_defaults, settle_heap
from friendsim_tui.tui.screens.settings import SAMPLING_FIELDS, SettingsResult, SettingsScreen, settings_line
from friendsim_tui.tui.text import display_path, inert, inert_content
from friendsim_tui.tui.widgets.candidates import CandidatePanel
from friendsim_tui.tui.widgets.chat_log import ChatLog, LogEntry
from friendsim_tui.tui.widgets.text_input import TextInput

if TYPE_CHECKING:  # pragma: no cover
    from friendsim_tui.store.chats import Fork

BRANCH_KEYS = Binding.Group("Branch", compact=True)
SHOWN = 9
"""Candidates shown at once: the newest nine of those offered for the turn, so a digit reaches each one."""


def branch_label(fork: Fork) -> str:
    return f"‹{fork.index + 1}/{fork.count}›"


def post_session(chats, session_id: int, post: Callable[[Message], Any]) -> None:
    """(In the writer) show the session at its current leaf: where its path last split, then its turns."""
    path = chats.path(session_id)
    post(ChatScreen.ForkShown(session_id, chats.fork(session_id, path=path)))
    post(SessionOpened(chats.session(session_id), path))


class ChatScreen(ModelScreen):
    class ForkShown(Message):
        """Where the session's current path last split, None when it never did."""

        def __init__(self, session_id: int, fork: Fork | None) -> None:
            super().__init__()
            self.session_id = session_id
            self.fork = fork

    HELP_TITLE = "Chat"
    HELP_GROUPS = {
        "pick": "Candidates", "more": "Candidates", "edit": "Candidates", "force": "Candidates",
        "undo": "Turns", "branch": "Turns", "impersonate": "Turns",
        "settings": "Session", "export": "Session", "new_session": "Session", "sessions": "Session",
        "back": "Session",
    }
    BINDINGS = [
        # Digits pick only while the candidate list has the focus; elsewhere they are typed (ModelScreen).
        Binding("1", "pick(0)", "Pick", key_display="1-9", tooltip="Take that candidate (in the list)"),
        *(Binding(str(i), f"pick({i - 1})", show=False) for i in range(2, 10)),
        Binding("ctrl+r", "more", "More", tooltip="More candidates for this turn"),
        Binding("f2", "edit", "Edit", tooltip="Edit the highlighted candidate, then take it"),
        Binding("ctrl+z", "undo", "Undo", tooltip="Step back one turn; a new pick starts a branch"),
        Binding("alt+left", "branch(-1)", "Previous branch", group=BRANCH_KEYS,
                tooltip="The previous saved branch where the chat split"),
        Binding("alt+right", "branch(1)", "Next branch", key_display="→", group=BRANCH_KEYS,
                tooltip="The next saved branch where the chat split"),
        Binding("ctrl+g", "impersonate", "Suggest", show=False, tooltip="The model suggests your next line"),
        Binding("ctrl+f", "force", "Force", show=False, tooltip="Pick the friend who answers next"),
        Binding("ctrl+s", "settings", "Settings", priority=True, tooltip="Sampling settings"),
        Binding("ctrl+e", "export", "Export", show=False, priority=True,
                tooltip="Save the chat as Markdown or plain text"),
        Binding("ctrl+n", "new_session", "New chat", show=False, priority=True,
                tooltip="Start a new session with the same run and friend"),
        Binding("ctrl+o", "sessions", "Sessions", show=False, priority=True,
                tooltip="Open, name or delete this workspace's chat sessions"),
        Binding("escape", "back", "Back", tooltip="From the input to the candidates; elsewhere leave the chat"),
    ]

    def __init__(self, workspace: str, run: str, player: str, *, speakers: Sequence[str] = (),
                 open_sampler: OpenSampler | None = None, sampler: Sampler | None = None,
                 seed_turns: Sequence[Turn] = (), resume: bool = True, autostart: bool = False,
                 session_id: int | None = None) -> None:
        """``session_id``: open that session; else resume the newest of ``run`` played as ``player`` (``resume``)
        or start a new one (with ``seed_turns`` first, if given)."""
        super().__init__(workspace, run, open_sampler=open_sampler, sampler=sampler, id=None)  # (no id: one chat
        # replaces another, from the session list, while both still exist)
        self._session_id = session_id
        self._autostart = autostart
        """Ask for the first candidates as soon as the model is loaded (the demo opens this way)."""
        self.player = player
        self.speakers = list(speakers)
        self._seed = [Turn(t.speaker, t.text) for t in seed_turns]
        self._resume = resume and not seed_turns
        self.session = None
        self.turns: list[Turn] = []
        self.offered: list[Turn] = []
        """Every candidate offered for the next turn, swipes included (all are saved with the turn taken)."""
        self._wanted: int = 0
        self._queued: tuple[str, str | None, bool] | None = None
        """A request made before the model and the session were both here (kind, forced speaker, more)."""
        self._replaced_draft: tuple[str, str] | None = None
        """(what the player had typed, the suggestion that replaced it), until the input changes again."""
        self.fork: Fork | None = None
        """Where the path last split (``fork.depth`` is the position in ``turns``); None: it never did."""
        self.last_sample_seconds: float | None = None
        self.writer: SessionWriter | None = None

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="chat-header"):  # who and which run on the left (cut first), the settings on the right
            yield Static(Content(""), id="chat-who", classes="header-who")
            yield Static(Content(""), id="chat-settings", classes="header-settings")
        yield ChatLog(speakers=self.speakers, id="chat-log")
        yield CandidatePanel(speakers=self.speakers, id="candidates")
        with Horizontal(id="chat-input-row"):
            yield Static(Content(">"), id="chat-prompt-mark")
            yield TextInput(placeholder=f"type as {inert(self.player, 30)}…   (empty enter: let them keep talking)",
                            id="chat-input", select_on_focus=False)
        # The chat has the most keys: esc Back must still fit in 80 columns (ctrl+p is listed in the help).
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._start_model()
        self._update_header()
        self.query_one(CandidatePanel).set_candidates([])
        self.writer = SessionWriter(self.workspace, self._writer_error)
        self._run_writer()
        self._open_session(session_id=self._session_id)
        self.query_one("#chat-input").focus()

    def on_unmount(self) -> None:
        super().on_unmount()
        if self.writer is not None:
            self.writer.close()

    @property
    def log_widget(self) -> ChatLog:
        return self.query_one("#chat-log", ChatLog)

    @property
    def panel(self) -> CandidatePanel:
        return self.query_one(CandidatePanel)

    @property
    def input(self) -> Input:
        return self.query_one("#chat-input", Input)

    def text_field(self) -> Input:
        return self.input

    def digits_act(self) -> bool:
        return bool(self.candidates) and self.panel.option_list.has_focus

    def _update_header(self) -> None:
        others = [s for s in self.speakers if s != self.player]
        parts = [Content("Playing as "), inert_content(self.player, "bold"), Content(" · run "),
                 inert_content(self.run, limit=30)]
        if others:  # last: on a narrow terminal it is cut first
            parts += [Content(" · with "), inert_content(", ".join(others), limit=50)]
        self.query_one("#chat-who", Static).update(Content.assemble(*parts))
        self.query_one("#chat-settings", Static).update(Content(settings_line(self.settings)))

    def _status(self, text: str, spinning: bool = False) -> None:
        self.panel.set_status(text, spinning)

    def _idle_hint(self) -> None:
        if self.candidates:
            self._status("enter or 1-9 picks · ^r more · f2 edit · ^f who answers · ^z undo")
        else:
            self._status(f"Your turn as {inert(self.player, 30)}: type, or press enter on an empty line to let "
                         "the others keep talking.")

    # -- workers: the writer, the session, the model -------------------------------------------------------
    @work(thread=True, group="writer", exit_on_error=False)
    def _run_writer(self) -> None:
        assert self.writer is not None
        self.writer.run()

    def _writer_error(self, error: str) -> None:
        self.post_message(ModelFailed(error))

    def _write(self, job: Callable[[Any], None]) -> None:
        if self.writer is not None:
            self.writer.put(job)

    def _write_turn(self, job: Callable[[Any], None]) -> None:
        """Write a change of the current turn, then show where the new path last split."""
        sid, post = self.session.id, self.post_message

        def run(chats) -> None:
            job(chats)
            post(self.ForkShown(sid, chats.fork(sid)))

        self._write(run)

    def _open_session(self, resume: bool | None = None, session_id: int | None = None) -> None:
        run, player, seed = self.run, self.player, self._seed
        resume = self._resume if resume is None else resume
        defaults = asdict(self.settings)
        post = self.post_message

        def job(chats) -> None:
            if session_id is not None:
                session = chats.session(session_id)
            else:
                found = [s for s in chats.list_sessions(run) if s.player == player] if resume else []
                session = found[0] if found else chats.new_session(run, player, settings=defaults)
            for turn in seed:
                chats.add(session.id, Turn(turn.speaker, turn.text, "model", (turn,), 0))
            post_session(chats, session.id, post)

        self._write(job)

    @on(SessionOpened)
    def _session_opened(self, message: SessionOpened) -> None:
        self.session = message.session
        self.settings = settings_from(self.session.settings, self.settings)
        self.turns = list(message.turns)
        self.log_widget.set_entries(self._entries())
        settle_heap()
        self._update_header()
        if self.session.pending:
            self._set_candidates(self.session.pending)
        if self.sampler is not None:
            self._ready()

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self._model_ready(message.sampler)
        speakers = list(getattr(self.sampler, "speakers", []) or [])
        if speakers:
            self.speakers = speakers
            self.log_widget.speakers = speakers
            self.panel.speakers = speakers
            self.log_widget.set_entries(self._entries())
        self._update_header()
        if self.session is not None:
            self._ready()

    def _ready(self) -> None:
        """Model and session are both here: do what was asked meanwhile, show the candidates on offer, or ask
        for some."""
        if self._queued is not None:
            (kind, force, more), self._queued = self._queued, None
            self._request(kind, force=force, more=more)
        elif self.candidates:
            self._idle_hint()
            self._focus_list()
        elif self.turns and self.turns[-1].source == "player":
            self._request()  # resumed right after the player's own line
        elif self._autostart:
            self._autostart = False
            self._request()
        else:
            self._idle_hint()

    # -- showing turns ----------------------------------------------------------------------------------
    def _entry(self, turn: Turn, position: int = -1) -> LogEntry:
        tag = {"player": " (you)", "edited": " (edited)"}.get(turn.source, "")
        if turn.speaker == self.player and turn.source != "player":
            tag = " (you)"
        if self.fork is not None and position == self.fork.depth:
            tag += " " + branch_label(self.fork)
        return LogEntry(turn.speaker, turn.text, tag)

    def _entries(self) -> list[LogEntry]:
        return [self._entry(t, i) for i, t in enumerate(self.turns)]

    @on(ForkShown)
    def _fork_shown(self, message: ForkShown) -> None:
        if self.session is not None and message.session_id != self.session.id:
            return
        if message.fork != self.fork:
            self._show_fork(message.fork)
            if self.session is not None:  # (a session being opened shows it with its turns)
                self.log_widget.set_entries(self._entries())

    def _show_fork(self, fork: Fork | None) -> None:
        """The branch keys in the Footer and the log's subtitle (the label on the turn comes with the entries)."""
        self.fork = fork
        self.log_widget.border_subtitle = (
            Content(f"branch {fork.index + 1}/{fork.count} · alt+← → switch") if fork is not None else None)
        self.refresh_bindings()

    def _append_turn(self, turn: Turn) -> None:
        self.turns.append(turn)
        self.log_widget.append(self._entry(turn))

    @property
    def candidates(self) -> list[Turn]:
        """The candidates shown: the newest :data:`SHOWN` of those offered."""
        return self.offered[-SHOWN:]

    def _set_candidates(self, items: Sequence[Turn]) -> None:
        """Offer ``items``; never one in the player's own voice (their lines are typed or suggested)."""
        self.offered = [c for c in items if c.speaker != self.player]
        self.panel.set_candidates(self.candidates)
        hidden = len(self.offered) - len(self.candidates)
        self.panel.border_subtitle = Content(f"{hidden} older not shown") if hidden else None

    def _focus_list(self) -> None:
        if self.candidates and not (self.input.has_focus and self.input.value):
            self.panel.option_list.focus()

    # -- sampling -----------------------------------------------------------------------------------------
    def _request(self, kind: str = "candidates", *, force: str | None = None, more: bool = False) -> None:
        if self.sampler is None or self.session is None:
            if self.model_error:
                self._model_missing()  # says why there will be no model
            else:  # asked for while the model loads (or the session opens): done as soon as both are here
                self._queued = (kind, force, more)
            return
        if not more:
            self._set_candidates([])
        sampler, post, player, settings = self.sampler, self.post_message, self.player, self.settings
        history = list(self.turns)
        n = 1 if kind == "impersonate" else settings.candidates
        self._wanted = n
        exclude = [c.text for c in self.offered] if more else []
        if kind == "impersonate":
            self._status(f"suggesting a line for {inert(self.player, 30)}…", spinning=True)
            self._start_sampling(kind, lambda token: sampler.impersonate(history, player, settings, n=1, exclude=exclude))
            return
        self._status(f"sampling {n} {'more ' if more else ''}…", spinning=True)
        self._start_sampling(kind, lambda token: sampler.candidates(
            history, player, n, settings, force_speaker=force, exclude=exclude,
            on_candidate=lambda c: post(CandidateSampled(token, c))))

    @on(CandidateSampled)
    def _candidate_sampled(self, message: CandidateSampled) -> None:
        if message.token != self._token or self.sampling != "candidates":
            return
        item = message.turn
        if item not in self.offered:
            self._set_candidates([*self.offered, item])
            self._wanted -= 1
            if self._wanted > 0:
                self._status(f"sampling {self._wanted} more…", spinning=True)
            self._focus_list()

    @on(SamplingDone)
    def _sampling_done(self, message: SamplingDone) -> None:
        if not self._finished(message):
            if message.cancelled and message.token == self._token:
                self._idle_hint()
            return
        self.last_sample_seconds = message.seconds
        if message.kind == "impersonate":
            self._idle_hint()
            if message.results:
                self._suggest(message.results[0].text)
            return
        new = [c for c in message.results if c not in self.offered]
        if new:
            self._set_candidates([*self.offered, *new])
        sid, offered = self.session.id, list(self.offered)
        self._write(lambda chats: chats.set_pending(sid, offered))
        self._idle_hint()
        self._focus_list()

    # -- taking turns -------------------------------------------------------------------------------------
    def _take(self, index: int, text: str | None = None) -> None:
        if self.session is None or not 0 <= index < len(self.candidates):
            return
        self._cancel_sampling()
        taken = self.candidates[index]
        source = "model" if text is None or text == taken.text else "edited"
        chosen = len(self.offered) - len(self.candidates) + index
        self._keep(Turn(taken.speaker, taken.text if text is None else text, source, tuple(self.offered), chosen))
        self._idle_hint()
        self.input.focus()

    def _say(self, text: str) -> None:
        if self.session is None:
            self.notify("The session is still opening.", severity="warning")
            return
        self._cancel_sampling()
        self._keep(Turn(self.player, text, "player", tuple(self.offered)))
        self._request()

    def _keep(self, turn: Turn) -> None:
        """Show ``turn`` at the end of the log and save it; nothing is on offer any more."""
        self._append_turn(turn)
        sid = self.session.id
        self._write_turn(lambda chats: chats.add(sid, turn))
        self._set_candidates([])

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if text.strip():
            self.input.value = ""
            self._say(text.strip())
        elif self.sampling != "candidates":
            self._request(more=bool(self.candidates))

    @on(OptionList.OptionSelected, "#candidate-list")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._take(event.option_index)

    # -- actions ------------------------------------------------------------------------------------------
    def action_pick(self, index: int) -> None:
        if index < len(self.candidates):
            self._take(index)
        elif self.candidates:
            self.notify(f"There are {len(self.candidates)} candidates.", severity="warning")

    def action_more(self) -> None:
        self._request(more=True)

    def action_edit(self) -> None:
        if not self.candidates:
            self.notify("No candidate to edit yet.", severity="warning")
            return
        index = self.panel.option_list.highlighted or 0
        cand = self.candidates[index]

        def edited(value: str | None) -> None:
            if value is not None:
                self._take(index, value)

        self.app.push_screen(
            TextPrompt(Content.assemble("Edit ", inert_content(cand.speaker, limit=30), "'s reply"), value=cand.text,
                       hint=Content("Enter takes the edited reply.")),
            edited,
        )

    def _suggest(self, text: str) -> None:
        """Put the suggested line in the input; what was typed there comes back with ctrl+z."""
        draft = self.input.value
        self._replaced_draft = (draft, text) if draft.strip() and draft != text else None
        self.input.value = text
        self.input.cursor_position = len(text)
        self.input.focus()
        if self._replaced_draft is not None:
            self._status("The suggestion replaced what you had typed: ctrl+z gives it back.")

    def action_undo(self) -> None:
        """Take back a suggestion that replaced what the player had typed, else step back one turn."""
        replaced, self._replaced_draft = self._replaced_draft, None
        if replaced is not None and self.input.value == replaced[1]:
            self.input.value = replaced[0]
            self.input.cursor_position = len(replaced[0])
            self.input.focus()
            self._idle_hint()
            return
        if self.session is None or not self.turns:
            self.notify("Nothing to undo.", severity="warning")
            return
        self._cancel_sampling()
        turn = self.turns.pop()
        self.log_widget.pop()
        sid = self.session.id
        self._write_turn(lambda chats: chats.undo(sid))
        if turn.speaker == self.player:  # typed or not (an opening line), the player's line goes back to the input
            self._set_candidates([])
            self.input.value = turn.text
            self.input.cursor_position = len(turn.text)
            self.input.focus()
        else:  # its candidates are on offer again: another pick starts a new branch
            self._set_candidates(turn.candidates)
            offered = list(self.offered)
            self._write(lambda chats: chats.set_pending(sid, offered))
            self._focus_list()
        self._idle_hint()

    def action_branch(self, step: int) -> None:
        """Show the previous (-1) or next (1) saved branch where the path last split, up to that branch's newest
        turn: the session is opened again there, as when it is resumed (nothing on offer: the candidates of the
        branch left are dropped; after the player's own line the others answer)."""
        fork = self.fork
        if self.session is None or fork is None or not 0 <= fork.index + step < fork.count:
            return
        self._cancel_sampling()
        sid, post = self.session.id, self.post_message
        self.session = None  # until the branch arrives: nothing to pick, say or undo meanwhile
        self._set_candidates([])
        if not self.input.has_focus:
            self.log_widget.focus()

        def job(chats) -> None:
            try:
                chats.switch_branch(sid, step)
            finally:
                post_session(chats, sid, post)

        self._write(job)

    def action_new_session(self) -> None:
        """Start a new session (the current one stays saved: it is the one resumed next time until this
        one has been used more recently). Its sampling settings start from the config's [chat]."""
        self._clear()
        self._open_session(resume=False)

    def _clear(self) -> None:
        """Nothing shown, nothing on offer, the config's settings: before another session opens here."""
        self._cancel_sampling()
        self._seed = []
        self._queued = None
        self.session = None
        self.turns = []
        self.settings = chat_defaults(self.app)
        self.log_widget.clear()
        self._set_candidates([])
        self._show_fork(None)
        self._update_header()

    def action_sessions(self) -> None:
        """The workspace's sessions: open another one (here when it has the same run and friend), or a new one."""
        from friendsim_tui.tui.screens.sessions import SessionsScreen

        def chosen(result) -> None:
            if not result:
                return
            what, session = result
            if what == "new":
                self.action_new_session()
            elif self.session is not None and session.id == self.session.id:
                return
            elif (session.run, session.player) == (self.run, self.player):
                self._clear()
                self._open_session(session_id=session.id)
            else:  # another model or another friend: a chat of its own, in place of this one
                self.app.switch_screen(ChatScreen(self.workspace, session.run, session.player,
                                                  open_sampler=self._open_sampler, session_id=session.id))

        current = self.session.id if self.session is not None else None
        self.app.push_screen(SessionsScreen(self.workspace, current=current, can_new=True), chosen)

    def action_impersonate(self) -> None:
        self._request("impersonate", more=True)

    def action_force(self) -> None:
        others = [s for s in self.speakers if s != self.player]
        if self._model_missing() or not others:
            return

        def forced(name: str | None) -> None:
            if name:
                self._request(force=name)

        self.app.push_screen(ChoicePrompt(Content("Who answers next?"), others), forced)

    def action_settings(self) -> None:
        def applied(result: SettingsResult | None) -> None:
            if result is None:
                return
            self.settings = replace(self.settings, **result.values)
            self._update_header()
            if self.session is not None:
                sid, saved = self.session.id, dict(result.values)
                self._write(lambda chats: chats.save_settings(sid, saved))
                if self.settings.hide_copies and any(c.verbatim for c in self.offered):  # the copies on offer go
                    self._set_candidates([c for c in self.offered if not c.verbatim])
                    offered = list(self.offered)
                    self._write(lambda chats: chats.set_pending(sid, offered))
            if result.as_default:
                self._save_default(result.chat_values())
            else:
                self.notify("Sampling settings applied and saved for this session.")

        self.app.push_screen(SettingsScreen("Sampling settings", SAMPLING_FIELDS, asdict(self.settings),
                                            self.config_path().name), applied)

    def action_export(self) -> None:
        if self.session is not None:
            self._ask_export("Export this chat as", self._export)

    def _export(self, markdown: bool) -> None:
        sid, workspace, post = self.session.id, self.workspace, self.post_message

        def job(chats) -> None:
            try:
                text = chats.export_markdown(sid) if markdown else chats.export_text(sid)
                path = export_path(workspace, f"chat-{sid}", "md" if markdown else "txt")
                write_private(path, text)
            except Exception as exc:
                post(FileSaved(error=f"export failed: {exc}"))
                return
            post(FileSaved(path))

        self._write(job)

    def action_back(self) -> None:
        """esc in the input moves to the candidates (or the log); esc elsewhere leaves the chat."""
        if self.input.has_focus:
            (self.panel.option_list if self.candidates else self.log_widget).focus()
            return
        self._cancel_sampling()
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":  # shown (and acting) only while the list has the focus
            return self.digits_act()
        if action == "edit":
            return True if self.candidates else None
        if action == "branch":  # shown only where the path split (False hides), dimmed (None) at either end
            fork = self.fork
            return False if fork is None else True if 0 <= fork.index + int(parameters[0]) < fork.count else None
        return True

    def palette_commands(self) -> list[PaletteCommand]:
        branches = [] if self.fork is None else [
            PaletteCommand("Previous branch", "Show the previous saved branch where the chat split (alt+←)",
                           lambda: self.action_branch(-1)),
            PaletteCommand("Next branch", "Show the next saved branch where the chat split (alt+→)",
                           lambda: self.action_branch(1)),
        ]
        return [
            PaletteCommand("More candidates", "Sample more candidates for this turn (ctrl+r)", self.action_more),
            PaletteCommand("Undo last turn", "Step back one turn; a new pick starts a branch (ctrl+z)", self.action_undo),
            *branches,
            PaletteCommand("Suggest my reply", "The model suggests your next line (ctrl+g)", self.action_impersonate),
            PaletteCommand("Force who answers…", "Pick the friend who answers next (ctrl+f)", self.action_force),
            PaletteCommand("Sampling settings…",
                           "Temperature, top-k, top-p, repetition, N, max tokens, copies (ctrl+s)", self.action_settings),
            PaletteCommand("Export chat…", "Save the session as Markdown or plain text (ctrl+e)", self.action_export),
            PaletteCommand("New chat session", "Start over with the same run and friend (ctrl+n)",
                           self.action_new_session),
            PaletteCommand("Sessions…", "Open, name or delete a saved chat session (ctrl+o)", self.action_sessions),
        ]
