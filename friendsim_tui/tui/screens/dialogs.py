"""Small modal dialogs: ask for a name, or pick one from a list. They return the answer or None."""

from __future__ import annotations

from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from friendsim_tui.tui.text import inert, inert_content
from friendsim_tui.tui.widgets.text_input import TextInput


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text. ``check`` returns an error to show, or None when the value is fine."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: Content,
        value: str = "",
        hint: Content | None = None,
        check: Callable[[str], str | None] | None = None,
        placeholder: str = "",
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._value = value
        self._hint = hint
        self._check = check
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self._title
            # An Input draws its value as is: control characters in a name would reach the terminal.
            yield TextInput(inert(self._value), placeholder=self._placeholder, id="prompt-input")
            yield Static(self._hint or Content(""), classes="dialog-hint")
            yield Static(Content(""), classes="dialog-error", id="prompt-error")
            yield Static(Content("enter OK · esc Cancel"), classes="dialog-keys")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value == inert(self._value).strip():
            value = self._value.strip()  # left as it was shown: keep the original characters
        error = "cannot be empty" if not value else (self._check(value) if self._check else None)
        if error:
            self.query_one("#prompt-error", Static).update(inert_content(error))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def rename_prompt(name: str, value: str, hint: str) -> TextPrompt:
    """Ask for a new name for speaker ``name`` (untrusted); ``hint`` is fixed text of ours."""
    return TextPrompt(Content.assemble("Rename ", inert_content(name, limit=40)), value=value, hint=Content(hint))


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of ``choices`` (untrusted names, shown inert)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: Content, choices: list[str], hint: Content | None = None) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._choices = choices
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self._title
            yield OptionList(
                *(Option(inert_content(name), id=str(i)) for i, name in enumerate(self._choices)),
                id="choice-list",
            )
            yield Static(self._hint or Content(""), classes="dialog-hint")
            yield Static(Content("enter Pick · esc Cancel"), classes="dialog-keys")

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._choices[int(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)
