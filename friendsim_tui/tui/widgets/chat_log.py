"""A transcript that stays smooth for long sessions: one widget, lines rendered on demand.

Each turn is wrapped to the widget's width once (again only when the width changes) and kept as
:class:`~textual.strip.Strip` lines; ``render_line`` hands out only the rows on screen. Thousands of
turns cost a list of strips, never thousands of widgets. Text is untrusted (imports, model output):
it goes through :func:`~friendsim_tui.tui.text.inert` into plain ``Content`` and is never parsed as
markup; strips carry no click actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from friendsim_tui.tui.text import inert

SPEAKER_COLORS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "bright_magenta")
NAME_WIDTH = 14
"""Widest speaker column, in cells (longer names are cut with …)."""


def speaker_style(speaker: str, speakers: list[str] | tuple[str, ...] = ()) -> str:
    """A stable colour per speaker: by position in ``speakers`` when listed, else by a hash of the name."""
    index = speakers.index(speaker) if speaker in speakers else sum(map(ord, speaker))
    return f"bold {SPEAKER_COLORS[index % len(SPEAKER_COLORS)]}"


def text_lines(text: str) -> list[str]:
    """Untrusted message text as inert display lines (newlines kept as line breaks)."""
    return [inert(line) for line in str(text).replace("\r\n", "\n").split("\n")] or [""]


@dataclass(frozen=True)
class LogEntry:
    speaker: str
    text: str
    tag: str = ""
    """Shown after the name, e.g. " (you)"."""
    style: str = ""
    """Style of the name; default: the speaker's colour."""


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
        self._strips: list[Strip] = []
        self._counts: list[int] = []
        """Lines of each entry at the current width, so the last entries can be removed."""
        self._wrapped_at = 0
        self._name_width = 0

    # -- content -----------------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._strips)

    def plain_lines(self) -> list[str]:
        """What the log shows, as plain text (tests and exports of the screen)."""
        return [strip.text for strip in self._strips]

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
            self._add_strips(entry)
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
                del self._strips[len(self._strips) - self._counts.pop():]
        self._update_size()

    def clear(self) -> None:
        self.set_entries([])

    # -- layout ------------------------------------------------------------------------------------
    @property
    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 10)

    def _name_for(self, entry: LogEntry) -> int:
        return min(len(inert(entry.speaker) + entry.tag), NAME_WIDTH + len(entry.tag))

    def on_resize(self) -> None:
        self._rewrap()

    def _rewrap(self, force: bool = False) -> None:
        width = self._width
        if not force and width == self._wrapped_at:
            return
        self._wrapped_at = width
        self._name_width = max((self._name_for(e) for e in self.entries), default=0)
        self._strips, self._counts = [], []
        for entry in self.entries:
            self._add_strips(entry)
        self._update_size()
        self.refresh()

    def _update_size(self) -> None:
        self.virtual_size = Size(self._wrapped_at or self._width, len(self._strips))
        self.refresh()

    def _name_content(self, entry: LogEntry) -> Content:
        name = inert(entry.speaker, NAME_WIDTH)
        return Content.assemble((name, entry.style or speaker_style(entry.speaker, self.speakers)), (entry.tag, "dim"))

    def _add_strips(self, entry: LogEntry) -> None:
        width = self._wrapped_at
        name = self._name_content(entry)
        lines: list[Content] = []
        if self.inline:
            body = Content.assemble(name, ": ", Content("\n".join(text_lines(entry.text))))
            lines = body.wrap(width)
        else:
            gutter = self._name_width + 2
            room = max(width - gutter, 8)
            wrapped = Content("\n".join(text_lines(entry.text))).wrap(room)
            pad = Content(" " * gutter)
            for i, line in enumerate(wrapped or [Content("")]):
                head = name.pad_right(gutter - name.cell_length) if i == 0 else pad
                lines.append(head + line)
        strips = [Strip(line.render_segments(Style()), line.cell_length) for line in lines]
        self._strips.extend(strips)
        self._counts.append(len(strips))

    # -- rendering ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        style = self.rich_style
        if index >= len(self._strips):
            return Strip.blank(width, style)
        strip = self._strips[index]
        return strip.apply_style(style).crop_extend(0, width, style)
