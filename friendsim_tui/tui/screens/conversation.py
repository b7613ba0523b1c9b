"""Conversation from a prompt: an opening line (or none) and the model writes whole conversations among
the friends, several samples side by side.

``Name: text`` with a name the model knows says who opens; other text is an opening line whose speaker
the model picks; an empty prompt lets the model open. The model is loaded once in a thread worker and
each generation runs in another, streaming finished conversations back as messages. 1–3 continue in
the chat from that sample (a new session that starts with its turns, the model already loaded).
"""

from __future__ import annotations

from dataclasses import asdict, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer, Input, Static

from friendsim_tui.config import Range
from friendsim_tui.safe_text import inert_lines as plain
from friendsim_tui.safe_text import md_escape
from friendsim_tui.services.sessions import export_path, write_private
from friendsim_tui.turns import Sampler, Turn, transcript
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.messages import ConversationSampled, FileSaved, ModelLoaded, SamplingDone
from friendsim_tui.tui.screens.chat import ChatScreen
from friendsim_tui.tui.screens.dialogs import ChoicePrompt
from friendsim_tui.tui.screens.model_screen import ModelScreen, OpenSampler
from friendsim_tui.tui.screens.settings import (
    SAMPLING_FIELDS, Field, SettingsResult, SettingsScreen, settings_line,
)
from friendsim_tui.tui.text import inert_content
from friendsim_tui.tui.widgets.chat_log import SAID_BEFORE, ChatLog, LogEntry
from friendsim_tui.tui.widgets.text_input import TextInput

MAX_SAMPLES = 4
CONVERSATION_FIELDS = (
    Field("samples", "Samples side by side", int, Range(1, MAX_SAMPLES)),
    Field("turns", "Turns per conversation", int, Range(1, 100)),
    *SAMPLING_FIELDS[:4],
    SAMPLING_FIELDS[5],
)


def conversation_text(workspace: str, run: str, prompt: str, samples: list[list[Turn]],
                      markdown: bool) -> str:
    """The samples as Markdown or a plain transcript; every name and text made inert (and escaped)."""
    if markdown:
        out = [f"# Conversation from a prompt · {md_escape(workspace)}", "",
               f"*Model run {md_escape(run)}; prompt: {md_escape(prompt) if prompt else 'none'}*", ""]
        for i, sample in enumerate(samples, 1):
            out += [f"## Sample {i}", "", *transcript(sample, markdown=True)]
        return "\n".join(out)
    out = [f"Conversation from a prompt · {plain(workspace)} · run {plain(run)}", f"Prompt: {plain(prompt)}", ""]
    for i, sample in enumerate(samples, 1):
        out += [f"-- Sample {i} --", *transcript(sample), ""]
    return "\n".join(out)


def sample_entries(sample: list[Turn]) -> list[LogEntry]:
    """A sample's turns for its column; a turn that copies an old message is marked "↺ said before"."""
    return [LogEntry(t.speaker, t.text, note=SAID_BEFORE if t.verbatim else "") for t in sample]


class ConversationScreen(ModelScreen):
    ERROR_TITLE = "Conversation"
    HELP_TITLE = "Conversation from a prompt"
    BINDINGS = [
        # Digits continue only while a sample has the focus; in the prompt (or typed elsewhere) they are text.
        Binding("1", "continue_chat(0)", "Continue in chat", key_display=f"1-{MAX_SAMPLES}",
                tooltip="Continue that sample in the chat (a sample focused)"),
        *(Binding(str(i), f"continue_chat({i - 1})", show=False) for i in range(2, MAX_SAMPLES + 1)),
        Binding("ctrl+s", "settings", "Settings", priority=True, tooltip="Samples, turns and sampling"),
        Binding("ctrl+e", "export", "Export", priority=True, tooltip="Save the samples as Markdown or plain text"),
        Binding("escape", "back", "Back", tooltip="From the prompt to the samples; elsewhere leave"),
    ]

    def __init__(self, workspace: str, run: str, *, open_sampler: OpenSampler | None = None,
                 sampler: Sampler | None = None,
                 samples: int = 3, turns: int = 12) -> None:
        super().__init__(workspace, run, open_sampler=open_sampler, sampler=sampler, id="conversation")
        self.n = samples
        self.turns = turns
        self.samples: list[list[Turn]] = []
        self.prompt = ""
        self._took = ""
        self._queued: str | None = None
        """A prompt sent while the model was loading."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="conv-header"):
            yield Static(Content(""), id="conv-what", classes="header-who")
            yield Static(Content(""), id="conv-settings", classes="header-settings")
        with Horizontal(id="conv-prompt-row"):
            yield Static(Content("Prompt "), classes="field-label")
            yield TextInput(placeholder="Maya: who's up for karaoke friday?   (or empty: the model opens)",
                            id="conv-prompt", select_on_focus=False)
        yield Horizontal(id="conv-samples")
        yield Static(Content(""), id="conv-status")
        yield Footer()

    async def on_mount(self) -> None:
        await self._build_columns()
        self._start_model()
        self._update_header()
        self.query_one("#conv-prompt").focus()

    def text_field(self) -> Input:
        return self.query_one("#conv-prompt", Input)

    def digits_act(self) -> bool:
        return bool(self.samples) and isinstance(self.focused, ChatLog)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue_chat":  # shown (and acting) only while a sample has the focus
            return self.digits_act()
        return True

    def on_descendant_focus(self) -> None:
        if self.samples and not self.sampling:
            self._done_hint()

    def _done_hint(self) -> None:
        """What the keys do now: digits continue a sample only while one has the focus."""
        n = len(self.samples)
        keys = f"1-{n} continue it in the chat" if self.digits_act() else f"in a sample, 1-{n} continue it in the chat"
        self._status(f"{n} samples{self._took} · {keys} · enter in the prompt generates again")

    @property
    def speakers(self) -> list[str]:
        return list(getattr(self.sampler, "speakers", []) or [])

    def _columns(self) -> list[ChatLog]:
        return list(self.query(".conv-sample").results(ChatLog))

    async def _build_columns(self) -> None:
        box = self.query_one("#conv-samples", Horizontal)
        await box.remove_children()
        columns = []
        for i in range(self.n):
            column = ChatLog(inline=True, speakers=self.speakers, classes="conv-sample", id=f"sample-{i + 1}")
            column.border_title = Content(f"Sample {i + 1}")
            columns.append(column)
        await box.mount_all(columns)

    def _update_header(self) -> None:
        self.query_one("#conv-what", Static).update(Content.assemble(
            "Conversation · run ", inert_content(self.run, limit=30), " · ", inert_content(self.workspace, limit=30)))
        self.query_one("#conv-settings", Static).update(Content(
            f"{self.n} × {self.turns} turns · " + settings_line(self.settings).rsplit(" · N ", 1)[0]))

    def _status(self, text: str, spinning: bool = False) -> None:
        self.query_one("#conv-status", Static).update(Content(text))

    # -- model ------------------------------------------------------------------------------------------
    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self._model_ready(message.sampler)
        for column in self._columns():
            column.speakers = self.speakers
        self._status("Type an opening line (or nothing) and press enter.")
        if self._queued is not None:
            prompt, self._queued = self._queued, None
            self.generate(prompt)

    # -- generating -------------------------------------------------------------------------------------

    @on(Input.Submitted, "#conv-prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.generate(event.value.strip())

    def generate(self, prompt: str) -> None:
        if self.sampler is None:
            if self.model_error:
                self._model_missing()
            else:  # asked for while the model loads: generated as soon as it is here
                self._queued = prompt
            return
        from friendsim_tui.services.chat import split_prompt

        self.prompt = prompt
        self.samples = []
        for column in self._columns():
            column.clear()
        prompt_turns, opening = split_prompt(self.speakers, prompt, None) if prompt else ([], None)
        sampler, post, n, turns, settings = self.sampler, self.post_message, self.n, self.turns, self.settings
        self._start_sampling("conversation", lambda token: sampler.conversation(
            prompt_turns, turns, n, settings, opening=opening,
            on_conversation=lambda conv: post(ConversationSampled(token, conv))))
        self._status(f"writing {n} conversations of {turns} turns…")

    def _show(self, sample: list[Turn]) -> None:
        if sample in self.samples or len(self.samples) >= self.n:
            return
        self.samples.append(sample)
        column = self._columns()[len(self.samples) - 1]
        column.set_entries(sample_entries(sample))

    @on(ConversationSampled)
    def _conversation_sampled(self, message: ConversationSampled) -> None:
        if message.token == self._token:
            self._show(message.turns)

    @on(SamplingDone)
    def _sampling_done(self, message: SamplingDone) -> None:
        if self._finished(message):
            for sample in message.results:
                self._show(sample)
            self._took = f" in {message.seconds:.0f}s" if message.seconds >= 1 else ""
            if self.samples and not self.text_field().value:
                self._columns()[0].focus()
            if self.samples:
                self._done_hint()

    # -- actions ----------------------------------------------------------------------------------------
    def action_continue_chat(self, index: int) -> None:
        if index >= len(self.samples):
            if self.samples:
                self.notify(f"There are {len(self.samples)} samples.", severity="warning")
            return
        sample = self.samples[index]

        def play(player: str | None) -> None:
            if player:
                self.app.push_screen(ChatScreen(self.workspace, self.run, player, speakers=self.speakers,
                                                sampler=self.sampler, seed_turns=sample, resume=False))

        self.app.push_screen(ChoicePrompt(Content(f"Continue sample {index + 1}: you play…"), self.speakers), play)

    def action_settings(self) -> None:
        def applied(result: SettingsResult | None) -> None:
            if result is None:
                return
            values = dict(result.values)
            n, self.turns = values.pop("samples"), values.pop("turns")
            self.settings = replace(self.settings, **values)
            if n != self.n:
                self.n = n
                self.samples = self.samples[:n]
                self.call_later(self._rebuild)
            self._update_header()
            if result.as_default:
                self._save_default(result.chat_values())

        values = {**asdict(self.settings), "samples": self.n, "turns": self.turns}
        self.app.push_screen(SettingsScreen("Conversation settings", CONVERSATION_FIELDS, values,
                                            self.config_path().name), applied)

    async def _rebuild(self) -> None:
        await self._build_columns()
        for column, sample in zip(self._columns(), self.samples):
            column.set_entries(sample_entries(sample))

    def action_export(self) -> None:
        if not self.samples:
            self.notify("Nothing to export yet: generate first.", severity="warning")
            return

        samples = list(self.samples)
        self._ask_export("Export these samples as", lambda markdown: self._export(markdown, samples))

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, markdown: bool, samples: list) -> None:
        try:
            path = export_path(self.workspace, "conversation", "md" if markdown else "txt")
            write_private(path, conversation_text(self.workspace, self.run, self.prompt, samples, markdown))
        except Exception as exc:
            self.post_message(FileSaved(error=f"export failed: {exc}"))
            return
        self.post_message(FileSaved(path))

    def action_back(self) -> None:
        prompt = self.query_one("#conv-prompt", Input)
        if prompt.has_focus and self.samples:
            self._columns()[0].focus()
            return
        self._cancel_sampling()
        self.app.pop_screen()

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Conversation settings…", "Samples, turns and sampling (ctrl+s)", self.action_settings),
            PaletteCommand("Export samples…", "Save the samples as Markdown or plain text (ctrl+e)",
                           self.action_export),
        ]
