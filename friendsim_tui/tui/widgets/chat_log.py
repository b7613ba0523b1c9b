"""A transcript that stays smooth for long sessions: one widget, lines rendered on demand.

Each turn is word-wrapped as plain text (cheap: a short message is one comparison) when it arrives and
again only when the width changes; ``render_line`` builds the styled :class:`~textual.strip.Strip` of a
row only when it is on screen (cached). Thousands of turns cost a list of row tuples, never thousands
of widgets, and a resize of a 5,000-turn log re-wraps in a few tens of milliseconds. Text is untrusted (imports, model output):
it goes through :func:`~friendsim_tui.tui.text.inert` into plain ``Content`` and is never parsed as
markup; strips carry no click actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len, get_character_cell_size

from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from friendsim_tui.tui.text import inert

SPEAKER_COLORS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "bright_magenta")
NAME_WIDTH = 14
"""Widest speaker column, in cells (longer names are cut with …)."""
SAID_BEFORE = "↺ said before"
"""The dim tag of a sampled turn that copies a training message (Turn.verbatim)."""


def speaker_style(speaker: str, speakers: list[str] | tuple[str, ...] = ()) -> str:
    """A stable colour per speaker: by position in ``speakers`` when listed, else by a hash of the name."""
    index = speakers.index(speaker) if speaker in speakers else sum(map(ord, speaker))
    return f"bold {SPEAKER_COLORS[index % len(SPEAKER_COLORS)]}"


def text_lines(text: str) -> list[str]:
    """Untrusted message text as inert display lines (newlines kept as line breaks)."""
    return [inert(line) for line in str(text).replace("\r\n", "\n").split("\n")] or [""]


_WORDS = re.compile(r"\S+\s*|\s+")


def _fold(word: str, width: int) -> list[str]:
    """Cut a word wider than ``width`` cells into pieces of at most ``width`` cells."""
    pieces, piece, used = [], "", 0
    for ch in word:
        w = get_character_cell_size(ch)
        if used + w > width and piece:
            pieces.append(piece)
            piece, used = "", 0
        piece += ch
        used += w
    return [*pieces, piece] if piece else pieces


def wrap_plain(text: str, width: int) -> list[str]:
    """Greedy word wrap of plain (already inert) text to ``width`` cells; newlines start new lines."""
    width = max(width, 2)
    out: list[str] = []
    for para in text.split("\n"):
        if len(para) <= width and (para.isascii() or cell_len(para) <= width):
            out.append(para)
            continue
        line, used = "", 0
        for word in _WORDS.findall(para):
            w = cell_len(word)
            if used + w <= width:
                line, used = line + word, used + w
                continue
            bare = word.rstrip()
            if bare and used + cell_len(bare) <= width:
                out.append(line + bare)
                line, used = "", 0
                continue
            if line.strip():
                out.append(line.rstrip())
            line, used = "", 0
            if not bare:
                continue
            *full, word = _fold(word, width) if cell_len(word) > width else ["", word]
            out.extend(piece for piece in full if piece)
            line, used = word, cell_len(word)
        out.append(line.rstrip())
    return out


@dataclass(frozen=True)
class LogEntry:
    speaker: str
    text: str
    tag: str = ""
    """Shown after the name, e.g. " (you)"."""
    style: str = ""
    """Style of the name; default: the speaker's colour."""
    note: str = ""
    """Our own words shown dim after the text (:data:`SAID_BEFORE`); never data."""


class ChatLog(ScrollView, can_focus=True):
    """Turns as ``Name  text`` rows (``inline``: ``Name: text``, for narrow columns)."""

    DEFAULT_CSS = """
    ChatLog {
        background: $surface;
        overflow-y: auto;
        overflow-x: hidden;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, *, inline: bool = False, speakers: list[str] | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.inline = inline
        self.speakers = list(speakers or [])
        self.entries: list[LogEntry] = []
        self._rows: list[tuple[int, int, str]] = []
        """(entry index, row within the entry, the row's text) at the current width."""
        self._counts: list[int] = []
        """Rows of each entry, so the last entries can be removed."""
        self._cache: dict[int, Strip] = {}
        self._wrapped_at = 0
        self._name_width = 0

    # -- content -----------------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._rows)

    def plain_lines(self) -> list[str]:
        """What the log shows, as plain text (tests and exports of the screen)."""
        return [self._row_content(y).plain for y in range(len(self._rows))]

    def set_entries(self, entries: list[LogEntry]) -> None:
        self.entries = list(entries)
        self._rewrap(force=True)
        self._scroll_to_end()

    def append(self, entry: LogEntry) -> None:
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.entries.append(entry)
        if self._name_for(entry) > self._name_width and not self.inline:
            self._rewrap(force=True)  # the name column grows: everything moves
        elif self._wrapped_at:
            self._add_rows(len(self.entries) - 1)
            self._update_size()
        if at_end:
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def pop(self, count: int = 1) -> None:
        """Remove the last ``count`` entries."""
        for _ in range(min(count, len(self.entries))):
            self.entries.pop()
            if self._counts:
                del self._rows[len(self._rows) - self._counts.pop():]
        self._cache.clear()
        self._update_size()

    def clear(self) -> None:
        self.set_entries([])

    # -- layout ------------------------------------------------------------------------------------
    @property
    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 10)

    def _name_for(self, entry: LogEntry) -> int:
        return min(len(inert(entry.speaker)), NAME_WIDTH) + len(entry.tag)

    def on_resize(self) -> None:
        self._rewrap()

    def _rewrap(self, force: bool = False) -> None:
        width = self._width
        if not force and width == self._wrapped_at:
            return
        self._wrapped_at = width
        self._name_width = max((self._name_for(e) for e in self.entries), default=0)
        self._rows, self._counts = [], []
        self._cache.clear()
        for index in range(len(self.entries)):
            self._add_rows(index)
        self._update_size()

    def _update_size(self) -> None:
        self.virtual_size = Size(self._wrapped_at or self._width, len(self._rows))
        self.refresh()

    def _name_content(self, entry: LogEntry) -> Content:
        name = inert(entry.speaker, NAME_WIDTH)
        return Content.assemble((name, entry.style or speaker_style(entry.speaker, self.speakers)), (entry.tag, "dim"))

    def _prefix(self, entry: LogEntry) -> str:
        """Inline mode: the ``Name: `` that opens an entry's first row."""
        return f"{inert(entry.speaker, NAME_WIDTH)}{entry.tag}: "

    def _add_rows(self, index: int) -> None:
        entry = self.entries[index]
        body = "\n".join(text_lines(entry.text))
        width = self._wrapped_at if self.inline else max(self._wrapped_at - self._name_width - 2, 8)
        lines = wrap_plain(self._prefix(entry) + body if self.inline else body, width)
        if entry.note:  # after the last line when it fits there, else on a line of its own
            if cell_len(lines[-1]) + 2 + cell_len(entry.note) <= width:
                lines[-1] += "  " + entry.note
            else:
                lines.append(entry.note)
        self._rows.extend((index, row, line) for row, line in enumerate(lines))
        self._counts.append(len(lines))

    # -- rendering ---------------------------------------------------------------------------------
    def _row_content(self, y: int) -> Content:
        index, row, text = self._rows[y]
        entry = self.entries[index]
        content = self._row_text(entry, row, text)
        note = entry.note
        if note and row == self._counts[index] - 1 and content.plain.endswith(note):
            content = content.stylize("dim", len(content) - len(note), len(content))
        return content

    def _row_text(self, entry: LogEntry, row: int, text: str) -> Content:
        if self.inline:
            prefix = self._prefix(entry)
            if row == 0 and text.startswith(prefix):
                return Content.assemble(self._name_content(entry), ": ", Content(text[len(prefix):]))
            return Content(text)
        gutter = self._name_width + 2
        if row:
            return Content(" " * gutter + text)
        name = self._name_content(entry)
        return name.pad_right(gutter - name.cell_length) + Content(text)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        style = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, style)
        strip = self._cache.get(index)
        if strip is None:
            if len(self._cache) > 2048:
                self._cache.clear()
            content = self._row_content(index)
            strip = self._cache[index] = Strip(content.render_segments(Style()), content.cell_length)
        return strip.apply_style(style).crop_extend(0, width, style)
