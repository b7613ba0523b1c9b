from __future__ import annotations

from typing import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable, inherit_bindings=False):
    """A row-cursor table that leaves Enter to the screen (no select binding; nobody acts on clicks).

    Cells must be Rich ``Text`` (or numbers): a plain ``str`` cell would be parsed as markup.
    """

    DEFAULT_CSS = """
    RowTable {
        height: auto;
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

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs) -> None:
        """``columns``: (label, key) pairs; labels are fixed text of ours."""
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._columns = list(columns)
        self._add_columns()

    def _add_columns(self, widths: Sequence[int | None] = ()) -> None:
        widths = list(widths) or [None] * len(self._columns)
        for (label, key), width in zip(self._columns, widths):
            self.add_column(label, key=key, width=width)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def replace_rows(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Show ``rows`` ((key, cells) pairs), keeping the cursor on the same key when it is still there.

        Columns are rebuilt with widths measured here, so they fit the new rows at once (DataTable
        would otherwise widen auto-width columns later, on idle, after a first frame too narrow).
        """
        rows = list(rows)
        widths = [
            max([cell_len(label), *(_width(cells[i]) for _, cells in rows)])
            for i, (label, _key) in enumerate(self._columns)
        ]
        keep = self.selected_key()
        self.clear(columns=True)
        self._add_columns(widths)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if keep is not None and self.row_count:
            try:
                self.move_cursor(row=self.get_row_index(keep))
            except Exception:  # the row is gone
                pass


def _width(cell: Text | int | float) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))
