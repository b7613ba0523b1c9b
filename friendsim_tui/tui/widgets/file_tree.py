from __future__ import annotations

from pathlib import Path
from typing import Iterable

from rich.text import Text
from textual.widgets import DirectoryTree

from friendsim_tui.tui.text import cut_middle, display_path, inert


class ChatFileTree(DirectoryTree):
    """A folder browser for picking exports: hidden files left out, names shown inert, the root as ``~/...``."""

    DEFAULT_CSS = """
    ChatFileTree {
        background: transparent;
    }
    """

    def __init__(self, path: str | Path, **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.root.set_label(display_path(path))

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")]

    def process_label(self, label) -> Text:
        return Text(inert(label.plain if isinstance(label, Text) else str(label)))

    def render_label(self, node, base_style, style) -> Text:
        """Names too long for the panel are cut in the middle, so ``… Telegram export.json`` and ``…
        Twitter export.json`` stay told apart (the end of a name is often what differs)."""
        depth = 0
        parent = node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        room = self.scrollable_content_region.width - depth * self.guide_depth
        return cut_middle(super().render_label(node, base_style, style), room)

    def on_resize(self) -> None:
        self._invalidate()  # labels are cut to the width: draw them again

    def reset_node(self, node, label, data=None):
        if node is self.root:
            label = display_path(label)
        return super().reset_node(node, label, data)

    def highlighted_path(self) -> Path | None:
        node = self.cursor_node
        return node.data.path if node is not None and node.data is not None else None
