"""The sampling settings dialog (chat and conversation), and the one-line summary the headers show.

Each field is checked on its own, against the same range the config file's ``[chat]`` is checked with,
and an error names the field as the dialog labels it and puts the cursor in it. A checkbox asks to keep the
sampling values as the default new chats start from (the caller writes them to the settings file).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static

from friendsim_tui.config import ChatConfig, Range
from friendsim_tui.tui.text import inert, inert_content
from friendsim_tui.tui.widgets.text_input import TextInput


def settings_line(cfg: ChatConfig) -> str:
    parts = [f"T {cfg.temperature:g}", f"top-k {cfg.top_k}"]
    if cfg.top_p < 1:
        parts.append(f"top-p {cfg.top_p:g}")
    parts += [f"rep {cfg.repetition_penalty:g}", f"N {cfg.candidates}"]
    if cfg.hide_copies:
        parts.append("copies hidden")
    return " · ".join(parts)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: type
    """int, float (a text field), or bool (a checkbox)."""
    allowed: Range | None = None
    """The values a number takes (for a sampling setting: ChatConfig.RANGES, as the config file is checked)."""


def _sampling(name: str, label: str, kind: type) -> Field:
    return Field(name, label, kind, ChatConfig.RANGES.get(name))


SAMPLING_FIELDS = (
    _sampling("temperature", "Temperature", float),
    _sampling("top_k", "Top-k (0: off)", int),
    _sampling("top_p", "Top-p", float),
    _sampling("repetition_penalty", "Repetition penalty", float),
    _sampling("candidates", "Candidates per turn (N)", int),
    _sampling("max_new_tokens", "Max tokens per turn", int),
    _sampling("hide_copies", "Hide candidates that copy an old message", bool),
)


@dataclass(frozen=True)
class SettingsResult:
    values: dict
    """{field name: value}, every value in its field's range"""
    as_default: bool = False
    """Also make the sampling values the default for new chats."""

    def chat_values(self) -> dict:
        """The values that are sampling settings ([chat] keys)."""
        keys = {f.name for f in fields(ChatConfig)}
        return {k: v for k, v in self.values.items() if k in keys}


class SettingsScreen(ModalScreen["SettingsResult | None"]):
    """Edit numbers; returns a :class:`SettingsResult`, or None on esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Apply", priority=True)]

    def __init__(self, title: str, specs: Sequence[Field], values: dict, default_target: str = ""):
        """``default_target``: the settings file "save as default" writes (its name is shown by the box)."""
        super().__init__(classes="dialog")
        self._title = title
        self._specs = list(specs)
        self._values = values
        self._default_target = default_target

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="settings-box") as box:
            box.border_title = Content(self._title)
            for spec in self._specs:
                if spec.kind is bool:
                    yield Checkbox(Content(spec.label), bool(self._values[spec.name]), id=f"set-{spec.name}",
                                   classes="setting-check")
                    continue
                with Horizontal(classes="setting-row"):
                    yield Static(Content(spec.label), classes="setting-label")
                    yield TextInput(f"{self._values[spec.name]:g}" if spec.kind is float else str(self._values[spec.name]),
                                    id=f"set-{spec.name}", classes="setting-input")
            yield Checkbox(Content.assemble("Also the default for new chats", (
                f" ([chat] in {self._default_target})" if self._default_target else "", "$text-muted")),
                id="settings-default", classes="setting-default")
            yield Static(Content(""), classes="dialog-error", id="settings-error")
            boxes = "boxes" if any(spec.kind is bool for spec in self._specs) else "box"
            yield Static(Content(f"enter / ctrl+s Apply · tab, space: the {boxes} · esc Cancel"), classes="dialog-keys")

    def _read(self) -> tuple[dict, Field | None, str]:
        """The values, or the first field that is wrong and why."""
        out: dict = {}
        for spec in self._specs:
            if spec.kind is bool:
                out[spec.name] = self.query_one(f"#set-{spec.name}", Checkbox).value
                continue
            raw = self.query_one(f"#set-{spec.name}", Input).value.strip()
            try:
                value = spec.kind(raw)
            except ValueError:
                whole = " (a whole number)" if spec.kind is int else ""
                return out, spec, f"{spec.label}: not a number{whole}: {inert(raw, 20)}"
            if spec.allowed is not None and not spec.allowed.allows(value):
                return out, spec, f"{spec.label}: must be {spec.allowed}"
            out[spec.name] = value
        return out, None, ""

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        values, wrong, error = self._read()
        if wrong is not None:
            self.query_one("#settings-error", Static).update(inert_content(error))
            self.query_one(f"#set-{wrong.name}", Input).focus()
            return
        self.dismiss(SettingsResult(values, self.query_one("#settings-default", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)
