"""Command palette (ctrl+p): the current screen's actions, searchable by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from friendsim_tui.tui.text import inert_content


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    """Shown inert (may hold a workspace name)."""
    help: str
    """Parsed as markup by the palette: fixed text only, never data."""
    callback: Callable[[], Any]


def _highlight(matcher: Matcher, title: str) -> Content:
    """Like ``Matcher.highlight`` but without parsing ``title`` as markup."""
    content = inert_content(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if offset < len(content.plain) and not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ScreenCommands(Provider):
    """Lists what the calling screen offers through its ``palette_commands()`` method."""

    def _commands(self) -> list[PaletteCommand]:
        get = getattr(self.screen, "palette_commands", None)
        return list(get()) if get is not None else []

    async def discover(self) -> Hits:
        for cmd in self._commands():
            yield DiscoveryHit(inert_content(cmd.title), cmd.callback, text=cmd.title, help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            score = matcher.match(cmd.title)
            if score > 0:
                yield Hit(score, _highlight(matcher, cmd.title), cmd.callback, text=cmd.title, help=cmd.help)
