"""The numbered candidate replies for the next turn, and a spinner line while more stream in."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from friendsim_tui.turns import Turn
from friendsim_tui.tui.text import inert, inert_content
from friendsim_tui.tui.widgets.chat_log import NAME_WIDTH, SAID_BEFORE, speaker_style

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def candidate_prompt(number: int, speaker: str, text: str, name_width: int,
                     speakers: Sequence[str] = (), verbatim: bool = False) -> Content:
    """``1  Jonas      Right. Same room as last week.  ↺ said before`` — untrusted speaker and text kept inert;
    the tag only when ``verbatim``."""
    name = inert(speaker, NAME_WIDTH)
    label = f"{number}" if number <= 9 else "·"
    return Content.assemble(
        (f"{label:<3}", "bold"),
        (name.ljust(name_width + 2), speaker_style(speaker, list(speakers))),
        inert_content(" ⏎ ".join(str(text).replace("\r\n", "\n").split("\n"))),
        *([("  " + SAID_BEFORE, "dim")] if verbatim else []),
    )


class CandidateList(OptionList):
    """Candidates as options; enter picks the highlighted one (the screen binds 1–9)."""


class CandidatePanel(Vertical):
    """A titled box: the candidate list and a status line (``⠋ sampling 2 more…``)."""

    DEFAULT_CSS = """
    CandidatePanel {
        height: auto;
        max-height: 50%;
        border: round $primary-muted;
        border-title-color: $text;
        padding: 0 1;
        &:focus-within { border: round $primary; }
        CandidateList {
            height: auto;
            max-height: 14;
            border: none;
            padding: 0;
            background: transparent;
            &:focus { border: none; }
        }
        #candidate-status { color: $text-muted; height: auto; }
    }
    """

    def __init__(self, *, speakers: Sequence[str] = (), id: str | None = None) -> None:
        super().__init__(id=id)
        self.speakers = list(speakers)
        self.items: list[Turn] = []
        self._status = ""
        self._spinning = False
        self._frame = 0

    def compose(self) -> ComposeResult:
        yield CandidateList(id="candidate-list")
        yield Static(Content(""), id="candidate-status")

    def on_mount(self) -> None:
        self.border_title = Content("Next: who answers?")
        self.set_interval(0.1, self._tick)

    @property
    def option_list(self) -> CandidateList:
        return self.query_one(CandidateList)

    def set_candidates(self, items: Sequence[Turn]) -> None:
        """Show exactly ``items``, keeping the highlight where it was."""
        listing = self.option_list
        highlighted = listing.highlighted
        self.items = list(items)
        width = max((min(len(inert(c.speaker)), NAME_WIDTH) for c in self.items), default=0)
        listing.set_options(
            Option(candidate_prompt(i, c.speaker, c.text, width, self.speakers, c.verbatim), id=f"c{i}")
            for i, c in enumerate(self.items, 1)
        )
        if self.items:
            listing.highlighted = min(highlighted or 0, len(self.items) - 1)
        listing.display = bool(self.items)

    def set_status(self, text: str, spinning: bool = False) -> None:
        """A status line of our own words (never data); ``spinning`` shows the spinner before it."""
        self._status = text
        self._spinning = spinning
        self._draw_status()

    def _tick(self) -> None:
        if self._spinning:
            self._frame = (self._frame + 1) % len(SPINNER)
            self._draw_status()

    def _draw_status(self) -> None:
        status = self.query_one("#candidate-status", Static)
        if not self._status:
            status.update(Content(""))
            status.display = False
            return
        status.display = True
        prefix = f"{SPINNER[self._frame]} " if self._spinning else ""
        status.update(Content(prefix + self._status))
