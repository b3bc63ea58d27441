"""Table columns that fit the screen: the columns that decide the work keep their width, one flexible column gives.

At 80 columns a ``DataTable`` with automatic widths grows past the screen and its last columns (a task's due date
and status, a sampling's time and team) scroll out of sight. ``fill_table`` sizes every column from its header and
cells, gives the flexible column (a task's title, an address) what is left of the table's width, cut with an
ellipsis (``household_list.fit``), and never less than ``MIN_FLEX`` cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from field_agent.tui.widgets.household_list import fit

MIN_FLEX = 8
SCROLLBAR = 2
"""Room kept for the vertical scrollbar, which appears once the rows outgrow the table."""

Cell = str | Text


def fill_table(
    table: DataTable[Any],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[str, Sequence[Cell]]],
    flexible: str,
    width: int,
) -> None:
    """Replace ``table``'s columns ((key, header)) and rows ((row key, cells)); the cursor stays on its row index.

    ``width`` is the table's width in cells (the screen's when the table is not laid out yet).
    """
    keys = [key for key, _ in columns]
    flex = keys.index(flexible)
    widths = [cell_len(header) for _, header in columns]
    for _, cells in rows:
        for index, cell in enumerate(cells):
            widths[index] = max(widths[index], cell_len(cell.plain if isinstance(cell, Text) else cell))
    padding = 2 * table.cell_padding * len(columns)
    rest = sum(w for i, w in enumerate(widths) if i != flex)
    widths[flex] = min(widths[flex], max(MIN_FLEX, width - SCROLLBAR - padding - rest))
    cursor = table.cursor_row
    table.clear(columns=True)
    for (key, header), column_width in zip(columns, widths, strict=True):
        table.add_column(header, key=key, width=column_width)
    for row_key, cells in rows:
        shown = list(cells)
        value = shown[flex]
        plain = value.plain if isinstance(value, Text) else value
        if cell_len(plain) > widths[flex]:
            shown[flex] = Text(fit(plain, widths[flex]).rstrip())
        table.add_row(*shown, key=row_key)
    if table.row_count:
        table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))
