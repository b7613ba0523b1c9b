from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable, inherit_bindings=False):
    """A row-cursor DataTable that leaves Enter to the screen (no select binding; nobody acts on clicks).

    Cells must be Rich ``Text`` (or numbers): a plain ``str`` cell would be parsed as markup.
    """

    DEFAULT_CSS = """
    RowTable {
        height: auto;
        max-height: 100%;
        background: transparent;
    }
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value
