"""Before a chat or a conversation: pick a trained run and, for a chat, the friend you play.

While the person picks, the highlighted run's model loads in the background (when the app's model engine
is warm: services.models keeps it for the chat or conversation that follows), so the chat opens without
waiting for it.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from friendsim_tui.tui.screens.model_screen import OpenSampler
from friendsim_tui.tui.text import inert_content
from friendsim_tui.tui.widgets.engine_hint import EngineHint


class ChatSetupScreen(Screen):
    """The workspace's completed runs and, for the highlighted one, the friends its model knows.

    ``need_player`` False (Conversation from a prompt): enter on a run opens the conversation screen.
    """

    BINDINGS = [
        Binding("s", "sessions", "Sessions", tooltip="Open, name or delete a saved chat session"),
        Binding("t", "train", "Train"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workspace: str, *, need_player: bool = True, open_sampler: OpenSampler | None = None) -> None:
        super().__init__(id="chat-setup")
        self.workspace = workspace
        self.need_player = need_player
        self._open_sampler = open_sampler
        self.runs: list[dict] | None = None
        self._prefetch_timer = None
        self.speakers: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        what = "Chat" if self.need_player else "Conversation from a prompt"
        with Horizontal(id="setup-title"):
            yield Static(Content.assemble(f"{what} · ", inert_content(self.workspace)), classes="header-who")
            yield EngineHint()
        yield Static(Content("Loading runs…").stylize("dim"), id="setup-note")
        with Horizontal(id="setup-body"):
            runs = OptionList(id="setup-runs")
            runs.border_title = Content("Trained run")
            yield runs
            if self.need_player:
                players = OptionList(id="setup-players")
                players.border_title = Content("You play")
                yield players
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#setup-body").display = False
        self._load_runs()

    class RunsLoaded(Message):
        def __init__(self, runs: list[dict] | None, error: str | None = None) -> None:
            super().__init__()
            self.runs = runs
            self.error = error

    class SpeakersLoaded(Message):
        def __init__(self, run: str, speakers: list[str] | None, error: str | None = None) -> None:
            super().__init__()
            self.run = run
            self.speakers = speakers
            self.error = error

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def _load_runs(self) -> None:
        from friendsim_tui.services import chat as chat_service

        try:
            runs = chat_service.completed_runs(self.workspace)
        except Exception as exc:
            self.post_message(self.RunsLoaded(None, f"cannot list runs: {exc}"))
            return
        self.post_message(self.RunsLoaded(runs))

    @work(thread=True, exclusive=True, group="speakers", exit_on_error=False)
    def _load_speakers(self, run: str) -> None:
        from friendsim_tui.services import chat as chat_service

        try:
            speakers = chat_service.model_speakers(chat_service.find_run(self.workspace, run))
        except Exception as exc:
            self.post_message(self.SpeakersLoaded(run, None, str(exc)))
            return
        self.post_message(self.SpeakersLoaded(run, speakers))

    @on(RunsLoaded)
    def _runs_loaded(self, message: RunsLoaded) -> None:
        note = self.query_one("#setup-note", Static)
        self.runs = message.runs or []
        if message.error:
            note.update(inert_content(message.error))
            return
        if not self.runs:
            note.update(Content.assemble(
                "No trained run in workspace ", inert_content(self.workspace, "bold"),
                " yet: press t to train one, then come back here."))
            return
        note.update(Content("Pick a run, then the friend you play (enter)." if self.need_player else
                            "Pick a run (enter): its model writes conversations from your prompt."))
        listing = self.query_one("#setup-runs", OptionList)
        listing.set_options(Option(self._run_prompt(r), id=f"run{i}") for i, r in enumerate(self.runs))
        self.query_one("#setup-body").display = True
        listing.highlighted = 0
        listing.focus()
        self._load_speakers(self.runs[0]["name"])

    @staticmethod
    def _run_prompt(run: dict) -> Content:
        details = [f"{run.get('base') or '?'}"]
        if run.get("eval_loss") is not None:
            try:
                import math

                details.append(f"eval ppl {math.exp(float(run['eval_loss'])):.1f}")
            except (OverflowError, TypeError, ValueError):
                pass
        return Content.assemble(("✓ ", "green"), inert_content(run["name"], limit=30), "  ",
                                inert_content(" · ".join(details), "dim"))

    def _run(self) -> dict | None:
        listing = self.query_one("#setup-runs", OptionList)
        if not self.runs or listing.highlighted is None:
            return None
        return self.runs[listing.highlighted]

    PREFETCH_DELAY = 0.3
    """Seconds a run stays highlighted before its model starts loading (scrolling past runs loads none)."""

    def _prefetch_soon(self, run: str) -> None:
        from friendsim_tui.services import models

        if self._open_sampler is not None or models.engine_state() not in ("warming", "ready"):
            return  # a scripted model (tests), or an app that never started the engine: load on opening only
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(self.PREFETCH_DELAY, lambda: self._prefetch(run))

    @work(thread=True, exclusive=True, group="prefetch", exit_on_error=False)
    def _prefetch(self, run: str) -> None:
        from friendsim_tui.services import models

        try:
            models.open_sampler(self.workspace, run)
        except Exception:  # the chat, opening, loads it again and says what is wrong
            pass

    @on(OptionList.OptionHighlighted, "#setup-runs")
    def _run_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        run = self._run()
        if run is not None:
            self._prefetch_soon(run["name"])
        if run is not None and self.need_player:
            if run["name"] in self.speakers:
                self._show_speakers(run["name"])
            else:
                self._load_speakers(run["name"])

    @on(SpeakersLoaded)
    def _speakers_loaded(self, message: SpeakersLoaded) -> None:
        if message.error:
            self.query_one("#setup-note", Static).update(inert_content(message.error))
            return
        self.speakers[message.run] = message.speakers or []
        run = self._run()
        if run is not None and run["name"] == message.run:
            self._show_speakers(message.run)

    def _show_speakers(self, run: str) -> None:
        if not self.need_player:
            return
        players = self.query_one("#setup-players", OptionList)
        players.set_options(Option(inert_content(s), id=f"sp{i}") for i, s in enumerate(self.speakers.get(run, [])))
        if players.option_count:
            players.highlighted = 0

    @on(OptionList.OptionSelected, "#setup-runs")
    def _run_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        run = self._run()
        if run is None:
            return
        if not self.need_player:
            from friendsim_tui.tui.screens.conversation import ConversationScreen

            self.app.push_screen(ConversationScreen(self.workspace, run["name"], open_sampler=self._open_sampler))
        else:
            self.query_one("#setup-players", OptionList).focus()

    @on(OptionList.OptionSelected, "#setup-players")
    def _player_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        run = self._run()
        if run is None:
            return
        from friendsim_tui.tui.screens.chat import ChatScreen

        speakers = self.speakers.get(run["name"], [])
        player = speakers[event.option_index]
        self.app.push_screen(ChatScreen(self.workspace, run["name"], player, speakers=speakers,
                                        open_sampler=self._open_sampler))

    def action_sessions(self) -> None:
        from friendsim_tui.tui.screens.sessions import SessionsScreen

        def chosen(result) -> None:
            if result and result[0] == "open":
                session = result[1]
                from friendsim_tui.tui.screens.chat import ChatScreen

                self.app.push_screen(ChatScreen(self.workspace, session.run, session.player,
                                                open_sampler=self._open_sampler, session_id=session.id))

        self.app.push_screen(SessionsScreen(self.workspace), chosen)

    def action_train(self) -> None:
        from friendsim_tui.tui.screens.new_run import NewRunScreen

        self.app.push_screen(NewRunScreen(self.workspace, open_running=True))

    def on_screen_resume(self) -> None:
        if self.runs is not None and not self.runs:  # back from Train: maybe there is a run now
            self._load_runs()

    def action_back(self) -> None:
        self.app.pop_screen()
