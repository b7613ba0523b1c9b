"""The dashboard's "Who sounds like whom" panel: whose voice the model hears in each friend's held-out lines.

While the run trains, each eval brings an ``attribution`` event (friendsim_tui.runs.AttributionEvent): the same
handful of held-out turns every time, each put in the voice of the friend under whom the model finds it most
likely. Once the run has finished, its held-out figures (runs.EVAL_FILE: every held-out turn, and how often
what it writes copies an old message) take their place.

Each row is a friend's real held-out lines; each column says how many of them the model heard in that
friend's voice. A strong diagonal means the model tells them apart. Names are untrusted: made inert, cut
to fit, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from textual.content import Content
from textual.widget import Widget

from friendsim_tui.tui.run_state import RunState, as_number
from friendsim_tui.tui.text import inert

BAR = 4
"""Cells of the bar beside a friend's own share (the diagonal), in the roomy layout."""
NAME_LIMIT = 12
"""Widest friend name in the row labels, in cells."""


@dataclass
class WhoView:
    """What the panel shows, from the latest attribution event or the end-of-run figures."""

    step: int | None
    accuracy: float | None
    baseline: float | None
    confusion: dict[str, dict[str, int]]
    """Who wrote -> whose voice the model heard -> turns."""
    names: list[str]
    """The friends, in the run's order (columns, and rows of those with turns)."""
    final: bool = False
    """Every held-out turn, on the finished model (the run's figures); else the handful seen at each eval."""
    best: tuple[int, float] | None = None
    verbatim_rate: float | None = None
    samples: int | None = None

    @property
    def turns(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    def share(self, who: str, voice: str) -> float | None:
        row = self.confusion.get(who) or {}
        total = sum(row.values())
        return row.get(voice, 0) / total if total else None


def _confusion(raw: Any) -> dict[str, dict[str, int]]:
    """A confusion table as written ({who: {voice: turns}}), with anything malformed left out."""
    out: dict[str, dict[str, int]] = {}
    if not isinstance(raw, dict):
        return out
    for who, row in raw.items():
        if isinstance(row, dict):
            counts = {str(v): int(n) for v, n in row.items() if as_number(n) is not None and n > 0}
            if counts:
                out[str(who)] = counts
    return out


def view_of(state: RunState, figures: dict | None = None) -> WhoView | None:
    """The panel's content: the run's figures once it has finished (when they hold attribution), else its
    latest attribution event; None before either."""
    names = [str(n) for n in state.start.get("speakers") or [] if isinstance(n, str)]
    if figures and as_number(figures.get("attribution_accuracy")) is not None:
        table = _confusion(figures.get("confusion"))
        if table:
            step = as_number(figures.get("step"))
            samples = as_number(figures.get("samples"))
            return WhoView(int(step) if step is not None else None, as_number(figures.get("attribution_accuracy")),
                           as_number(figures.get("attribution_baseline")), table, _ordered(names, table), final=True,
                           best=state.best, verbatim_rate=as_number(figures.get("verbatim_rate")),
                           samples=int(samples) if samples else None)
    e = state.attribution
    table = _confusion(e.get("confusion"))
    if not table:
        return None
    step = as_number(e.get("step"))
    return WhoView(int(step) if step is not None else None, as_number(e.get("accuracy")), as_number(e.get("baseline")),
                   table, _ordered(names, table), best=state.best)


def _ordered(names: list[str], table: dict[str, dict[str, int]]) -> list[str]:
    """The run's friends in its order, and any other name the table holds after them."""
    seen = list(names)
    for who, row in table.items():
        for name in (who, *row):
            if name not in seen:
                seen.append(name)
    return seen


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _cut(name: str, width: int) -> str:
    """An inert name in at most ``width`` cells (cut with …)."""
    text = inert(name)
    if cell_len(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        if used + cell_len(ch) > width - 1:
            break
        out, used = out + ch, used + cell_len(ch)
    return out + "…"


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - cell_len(text))
    return gap + text if right else text + gap


@dataclass(frozen=True)
class _Layout:
    name_w: int
    col_w: int
    roomy: bool
    """Headers ``as <name>`` and a bar beside each friend's own share; else bare names and shares."""
    gap: int = 1


def _layout(view: WhoView, width: int | None) -> _Layout:
    rows = [n for n in view.names if n in view.confusion]
    name_w = min(max(cell_len(inert(n)) for n in rows), NAME_LIMIT)
    cols = len(view.names)
    roomy_w = max(max(3 + min(cell_len(inert(n)), 10) for n in view.names), BAR + 5)
    for gap in (2, 1):
        if width is None or name_w + cols * (roomy_w + gap) <= width:
            return _Layout(name_w, roomy_w, True, gap)
    col_w = max(4, min(max(cell_len(inert(n)) for n in view.names), (width - name_w) // cols - 1))
    if name_w + cols * (col_w + 1) > width:  # still too wide: shorter row labels
        name_w = max(4, width - cols * (col_w + 1))
    return _Layout(name_w, col_w, False)


def who_lines(view: WhoView, width: int | None = None) -> list[Content]:
    """The panel's lines, fitted to ``width`` cells (None: as roomy as it gets)."""
    lay = _layout(view, width)
    gap = " " * lay.gap
    told = f"told apart {pct(view.accuracy)} of the time (guessing: {pct(view.baseline)})"
    lines_note = f" · {view.turns:,} held-out lines"
    if width is not None and len(told) > width:
        told, lines_note = f"told apart {pct(view.accuracy)} (guessing: {pct(view.baseline)})", ""
    elif width is not None and len(told + lines_note) > width:
        lines_note = ""
    lines = [Content.assemble((told, "bold"), (lines_note, "$text-muted"))]
    head = [_pad("", lay.name_w)]
    for name in view.names:
        label = "as " + _cut(name, lay.col_w - 3) if lay.roomy else _cut(name, lay.col_w)
        head.append(gap + _pad(label, lay.col_w, right=True))
    lines.append(Content.styled("".join(head), "$text-muted"))
    for who in view.names:
        if who not in view.confusion:
            continue
        parts: list[str | tuple[str, str]] = [(_pad(_cut(who, lay.name_w), lay.name_w), "bold")]
        for voice in view.names:
            share = view.share(who, voice)
            text = "·" if not share else pct(share)
            if voice == who:
                bar = "█" * round((share or 0) * BAR) if lay.roomy else ""
                cell = _pad(f"{bar} {text}" if bar else text, lay.col_w, right=True)
                parts += [gap, (cell, "bold $success")]
            else:
                parts += [gap, (_pad(text, lay.col_w, right=True), "" if share else "$text-muted")]
        lines.append(Content.assemble(*parts))
    if view.final and view.verbatim_rate is not None:
        of = f" of {view.samples:,} sampled lines" if view.samples else " of sampled lines"
        lines.append(Content.styled(f"copies old lines: {pct(view.verbatim_rate)}{of}", "$text-muted"))
    return lines


def who_title(view: WhoView) -> str:
    if view.final:
        return f"Who sounds like whom (all held-out talk, step {view.step:,})" if view.step is not None else \
            "Who sounds like whom (all held-out talk)"
    parts = [f"step {view.step:,}"] if view.step is not None else []
    if view.best is not None:
        parts.append(f"best step {view.best[0]:,}")
    return "Who sounds like whom (held-out talk" + "".join(f", {p}" if i == 0 else f" · {p}"
                                                          for i, p in enumerate(parts)) + ")"


class WhoPanel(Widget):
    """"Who sounds like whom": told apart how often (against guessing), and the table of whose voice the model
    hears in whose lines. Hidden until the run's first attribution."""

    DEFAULT_CSS = """
    WhoPanel {
        width: auto;
        height: auto;
        border: round $primary 60%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: WhoView | None = None

    def show(self, state: RunState, figures: dict | None = None) -> None:
        self.view = view_of(state, figures)
        self.set_class(self.view is not None, "-shown")
        if self.view is not None:
            self.border_title = who_title(self.view)
            self.border_subtitle = "rows: who wrote · columns: whose voice the model hears"
        self.refresh(layout=True)

    def get_content_width(self, container, viewport) -> int:
        if self.view is None:
            return 0
        return max(c.cell_length for c in who_lines(self.view))

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(who_lines(self.view, width)) if self.view is not None else 0

    def render(self) -> Content:
        if self.view is None:
            return Content("")
        width = self.content_size.width
        return Content("\n").join(line.truncate(width, ellipsis=True) for line in who_lines(self.view, width))
