"""Small modal dialogs: ask for a name, pick one from a list, or list the keys of the screen below.

The prompts return the answer or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.keys import key_to_character
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, DirectoryTree, Input, OptionList, Static, TextArea
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

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("question_mark", "app.help", "Help", key_display="?", show=False),
    ]

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


# -- Help: every key of the screen below ----------------------------------------------------------------


@dataclass
class HelpKey:
    keys: list[str]
    description: str
    action: str
    note: str = ""
    """Why the key does nothing now ("not now", "not while typing"); empty when it works."""
    spoken_for: bool = False
    """A key_display already names every key of this action (the chat's "1-9")."""
    label: str = ""
    """The binding's own (Footer) description: keys of one action with another label get their own line."""


@dataclass
class HelpSection:
    title: str
    keys: list[HelpKey] = field(default_factory=list)


ANYWHERE = "Anywhere"
NOT_NOW = "not now"
NOT_WHILE_TYPING = "not while typing in a text field"
_TEXTUAL_WORDS = {
    # Textual's own bindings, in our words.
    "app.focus_next": "Next field or list",
    "app.focus_previous": "Previous field or list",
    "screen.copy_text": "Copy selected text",
    "command_palette": "Commands: this screen's actions by name",
    "quit": "Quit",
}


def _focus_title(node: DOMNode) -> str:
    if isinstance(node, (Input, TextArea)):
        return "In this text field"
    if isinstance(node, (DataTable, OptionList, DirectoryTree)):
        return "In this list"
    return "Here"


def screen_title(screen: Screen) -> str:
    """``HELP_TITLE`` when the screen has one, else its class name in words ("ChatSetupScreen" -> "Chat setup")."""
    title = getattr(screen, "HELP_TITLE", None)
    if title:
        return title
    words = re.findall(r"[A-Z][a-z0-9]*", type(screen).__name__.removesuffix("Screen")) or ["This screen"]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _compress(keys: list[str]) -> list[str]:
    """``1 2 3 … 9`` -> ``1-9``: a run of three or more consecutive digits reads as a range."""
    digits = [k for k in keys if len(k) == 1 and k.isdigit()]
    if len(digits) >= 3 and [int(d) for d in digits] == list(range(int(digits[0]), int(digits[0]) + len(digits))):
        first = keys.index(digits[0])
        return [*keys[:first], f"{digits[0]}-{digits[-1]}", *(k for k in keys[first:] if k not in digits)]
    return keys


def help_sections(screen: Screen) -> list[HelpSection]:
    """Every key of ``screen`` and what it does, grouped: the focused widget's keys, the screen's (by the
    screen's ``HELP_GROUPS`` {action: group title}, else the bindings' Footer groups), then keys that work
    anywhere. A key that does nothing now is listed with why: "not now", or "not while typing" when the
    focused text field takes it as a character.
    """
    app = screen.app
    focused = screen.focused
    nodes = list(focused.ancestors_with_self) if focused is not None else [screen, app]
    groups: dict[str, str] = getattr(screen, "HELP_GROUPS", {})
    base_actions = {b.action for b in Screen.BINDINGS if isinstance(b, Binding)}
    sections: dict[str, HelpSection] = {}
    seen_keys: set[str] = set()
    here = getattr(screen, "help_here", None)  # what keys the screen gives the focused widget, in words
    if focused is not None and here is not None:
        for key, description in here(focused):
            title = _focus_title(focused)
            sections.setdefault(title, HelpSection(title)).keys.append(HelpKey([key], description, f"here:{key}"))
    for node in nodes:
        for key, binding in node._bindings:
            if (key in seen_keys and not binding.priority) or binding.system:
                continue  # a key bound nearer the focus wins
            if node is app and screen.is_modal and not binding.priority:
                continue  # a dialog keeps the app's keys from reaching the screens below it
            seen_keys.add(key)
            if node is not screen and node is not app and not binding.show:
                continue  # widgets' own moves (arrows, page up...) go without saying
            action = binding.action.split("(")[0]
            if node is app or binding.action in base_actions:
                title = ANYWHERE
            elif node is screen:
                title = groups.get(action) or (binding.group.description if binding.group else screen_title(screen))
            else:
                title = _focus_title(node)
            section = sections.setdefault(title, HelpSection(title))
            display = app.get_key_display(binding).replace("⏎", "enter")
            line = next((k for k in section.keys
                         if k.action == action and (not binding.description or k.label == binding.description)), None)
            if line is None:
                description = (binding.tooltip or binding.description or _TEXTUAL_WORDS.get(binding.action)
                               or action.rpartition(".")[2].replace("_", " "))
                description = _TEXTUAL_WORDS.get(binding.action, description)
                consumed = (focused is not None and node is not focused and not binding.priority
                            and focused.check_consume_key(key, key_to_character(key)))
                state = app._check_action_state(binding.action, node)
                note = NOT_WHILE_TYPING if consumed else "" if state else NOT_NOW
                section.keys.append(HelpKey([display], description, action, note, bool(binding.key_display),
                                            binding.description))
            elif display not in line.keys and not (line.spoken_for and not binding.description):
                line.keys.append(display)
    ordered = sorted(sections.values(), key=lambda s: s.title == ANYWHERE)  # keys that work anywhere last
    for section in ordered:
        for line in section.keys:
            line.keys = _compress(line.keys)
    return ordered


class HelpScreen(ModalScreen[None]):
    """Every key of the screen below and what it does (F1 anywhere, ? where no text field has the focus).
    Esc, ? or F1 again close it (the app's F1 closes it)."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
    ]

    def __init__(self, title: str, sections: list[HelpSection]) -> None:
        super().__init__(classes="dialog", id="help")
        self._title = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box", id="help-box") as box:
            box.border_title = Content.assemble("Keys · ", inert_content(self._title))
            yield Static(self._content(), id="help-keys")
            notes = sorted({key.note for section in self.sections for key in section.keys if key.note})
            dimmed = f"Dimmed: {' or '.join(notes)}. " if notes else ""
            yield Static(Content(f"{dimmed}esc or ? closes this list."), classes="dialog-keys")

    def _content(self) -> Content:
        width = min(16, max((len(", ".join(k.keys)) for s in self.sections for k in s.keys), default=0)) + 2
        lines: list[Content] = []
        for section in self.sections:
            lines.append(inert_content(section.title, "bold underline"))
            for key in section.keys:
                line = Content.assemble(
                    (inert(", ".join(key.keys)).ljust(width - 1) + " ", "bold $accent"), inert_content(key.description)
                )
                lines.append(line.stylize("dim") if key.note else line)
        return Content("\n").join(lines)

    def action_close(self) -> None:
        self.dismiss(None)
