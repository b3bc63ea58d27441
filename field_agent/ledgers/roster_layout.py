"""Where a sheet's roster is: its header row (or two rows under merged cells) in the first rows, below any title, and
which column holds which field."""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.roster_headers import describe_known_headers, field_for_header
from field_agent.ledgers.sheets import Sheet

HEADER_SCAN_ROWS = 10


@dataclass
class Layout:
    """A sheet's header: its last row, each column's header text, and the column of each field read."""

    first: int
    last: int
    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)  # field -> 1-based column
    ignored: list[str] = field(default_factory=list)

    def header_of(self, name: str) -> str:
        return self.headers[self.columns[name] - 1]


def find_layout(sheet: Sheet, file: str) -> Layout | None:
    """The sheet's roster header, None when it has none (no row naming 姓名 or 身份证号 and two more fields in the
    first rows); RosterFileError when it has one that cannot be read (merged across columns, too deep, no name, ID
    number or address column). Merged cells below the header are filled in (a family's merged address)."""
    block = _header_block(sheet, file)
    if block is None:
        return None
    first, last = block
    sheet.fill_merges(from_row=last + 1)
    layout = Layout(first, last, _block_headers(sheet, first, last))
    for col, header in enumerate(layout.headers, start=1):
        name = field_for_header(header)
        if name is None or name in layout.columns:
            if header:
                layout.ignored.append(header)
            continue
        layout.columns[name] = col
    _require_columns(layout.columns, file, sheet.name)
    return layout


def _header_block(sheet: Sheet, file: str) -> tuple[int, int] | None:
    """The first and last row of the header: one row, or two when merged cells make a two-level header."""
    for row in range(1, min(len(sheet.rows), HEADER_SCAN_ROWS) + 1):
        fields = {field_for_header(cell) for cell in sheet.rows[row - 1]}
        below = {field_for_header(cell) for cell in (sheet.rows[row] if row < len(sheet.rows) else [])}
        known = (fields | below) - {None}
        if not ({"name", "id_number"} & fields) or len(known) < 3:
            continue
        merged = [m for m in sheet.merges if m.min_row == row]
        deeper = max((m.max_row for m in merged), default=row)
        wide = [m for m in merged if m.max_row == row and m.max_col > m.min_col]
        if deeper == row and wide:
            under = [field_for_header(sheet.cell(row + 1, c)) for m in wide for c in range(m.min_col, m.max_col + 1)]
            if any(under):
                deeper = row + 1
            else:
                m = wide[0]
                span = f"{get_column_letter(m.min_col)}{row}:{get_column_letter(m.max_col)}{row}"
                header = sheet.cell(row, m.min_col)
                raise RosterFileError("header.merged_wide", file=file, sheet=sheet.name, header=header, span=span)
        if deeper - row > 1:
            raise RosterFileError("header.too_deep", file=file, sheet=sheet.name, first=row, last=deeper)
        return row, deeper
    return None


def _block_headers(sheet: Sheet, first: int, last: int) -> list[str]:
    """Each column's header: the lowest text in the header block, merged cells spread over what they cover."""
    width = max(len(sheet.rows[r - 1]) for r in range(first, last + 1))
    width = max([width] + [m.max_col for m in sheet.merges if m.min_row <= last and m.max_row >= first])
    headers = []
    for col in range(1, width + 1):
        header = ""
        for row in range(first, last + 1):
            text = sheet.cell(row, col)
            if not text:
                covering = next((m for m in sheet.merges if m.contains(row, col)), None)
                text = sheet.cell(covering.min_row, covering.min_col) if covering else ""
            if text and (field_for_header(text) is not None or not header):
                header = text
        headers.append(header)
    return headers


def _require_columns(columns: dict[str, int], file: str, sheet: str) -> None:
    missing = [label for key, label in (("name", "姓名"), ("id_number", "身份证号")) if key not in columns]
    if missing:
        raise RosterFileError(
            "header.missing", file=file, sheet=sheet, missing="/".join(missing), known=describe_known_headers()
        )
    if not {"building", "room", "address"} & set(columns):
        raise RosterFileError("header.no_address", file=file, sheet=sheet)


def no_header_error(file: str, sheet: Sheet) -> RosterFileError:
    return RosterFileError(
        "header.none", file=file, sheet=sheet.name, rows=HEADER_SCAN_ROWS, known=describe_known_headers()
    )
