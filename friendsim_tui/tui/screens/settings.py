"""The sampling settings dialog (chat and conversation), and the one-line summary the headers show."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from friendsim_tui.config import ChatConfig, ConfigError
from friendsim_tui.tui.text import inert, inert_content
from friendsim_tui.tui.widgets.text_input import TextInput


def settings_line(cfg: ChatConfig) -> str:
    parts = [f"T {cfg.temperature:g}", f"top-k {cfg.top_k}"]
    if cfg.top_p < 1:
        parts.append(f"top-p {cfg.top_p:g}")
    parts += [f"rep {cfg.repetition_penalty:g}", f"N {cfg.candidates}"]
    return " · ".join(parts)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: type
    low: float | None = None
    high: float | None = None


SAMPLING_FIELDS = (
    Field("temperature", "Temperature", float),
    Field("top_k", "Top-k (0: off)", int),
    Field("top_p", "Top-p", float),
    Field("repetition_penalty", "Repetition penalty", float),
    Field("candidates", "Candidates per turn (N)", int),
    Field("max_new_tokens", "Max tokens per turn", int),
)


class SettingsScreen(ModalScreen["dict | None"]):
    """Edit numbers; returns {name: value} (checked by ``check``) or None on esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Apply", priority=True)]

    def __init__(self, title: str, specs: Sequence[Field], values: dict, check: Callable[[dict], str | None]):
        super().__init__(classes="dialog")
        self._title = title
        self._specs = list(specs)
        self._values = values
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="settings-box") as box:
            box.border_title = Content(self._title)
            for spec in self._specs:
                with Horizontal(classes="setting-row"):
                    yield Static(Content(spec.label), classes="setting-label")
                    yield TextInput(f"{self._values[spec.name]:g}" if spec.kind is float else str(self._values[spec.name]),
                                    id=f"set-{spec.name}", classes="setting-input")
            yield Static(Content(""), classes="dialog-error", id="settings-error")
            yield Static(Content("enter / ctrl+s Apply · esc Cancel"), classes="dialog-keys")

    def _read(self) -> tuple[dict, str | None]:
        out: dict = {}
        for spec in self._specs:
            raw = self.query_one(f"#set-{spec.name}", Input).value.strip()
            try:
                value = spec.kind(float(raw)) if spec.kind is int and "." not in raw else spec.kind(raw)
            except ValueError:
                return out, f"{spec.label}: not a number: {inert(raw, 20)}"
            if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
                return out, f"{spec.label}: between {spec.low:g} and {spec.high:g}"
            out[spec.name] = value
        return out, self._check(out)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        values, error = self._read()
        if error:
            self.query_one("#settings-error", Static).update(inert_content(error))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


def check_chat_settings(values: dict) -> str | None:
    try:
        ChatConfig(**{k: v for k, v in values.items() if k in {f.name for f in fields(ChatConfig)}}).validate("settings")
    except ConfigError as exc:
        return str(exc).removeprefix("settings: ")
    return None
