from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An Input that follows the app's ``cursor_blink`` setting (off in tests, for stable snapshots)."""

    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "cursor_blink", True)
