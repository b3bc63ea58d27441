"""Parse a roster (.xlsx/.csv): every sheet with a roster header, its Chinese headers mapped, every row checked with
the words table and the domain rules, footer lines skipped, bad rows reported.

``parse_roster(path, sheet=None, words=None)`` returns the good rows and every problem (sheet, line, column,
reason); it writes nothing, so the device (``field-agent import``) and the town server (``field-server roster
import``) share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.roster_headers import describe_known_headers
from field_agent.ledgers.roster_layout import HEADER_SCAN_ROWS, Layout, find_layout, no_header_error
from field_agent.ledgers.roster_messages import say
from field_agent.ledgers.roster_rows import RosterRow, RowReader
from field_agent.ledgers.roster_values import is_footer
from field_agent.ledgers.roster_words import RosterWords, resolve_words, word_key
from field_agent.ledgers.row_errors import RowError
from field_agent.ledgers.sheets import Sheet, read_sheets

__all__ = ["ParsedRoster", "RosterRow", "RowError", "SheetSummary", "SkippedSheet", "parse_roster"]


@dataclass
class SheetSummary:
    """One sheet read: where its header is, its columns, how many rows were good, bad and footer lines."""

    name: str
    header_line: int
    columns: dict[str, str] = field(default_factory=dict)  # field -> header as written
    ignored_headers: list[str] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    footer_lines: int = 0


@dataclass(frozen=True)
class SkippedSheet:
    """A sheet not read: ``reason`` is ``no_header``, ``hidden`` or ``empty``."""

    name: str
    reason: str

    def reason_text(self, language: str | None = None) -> str:
        return say(f"skip.{self.reason}", language)


@dataclass
class ParsedRoster:
    """The good rows of every sheet read and every problem. ``columns``, ``ignored_headers`` and ``header_line``
    are the first sheet's (``sheets`` has each one's)."""

    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_headers: list[str] = field(default_factory=list)
    header_line: int = 0
    encoding: str | None = None
    sheets: list[SheetSummary] = field(default_factory=list)
    skipped_sheets: list[SkippedSheet] = field(default_factory=list)

    @property
    def footer_lines(self) -> int:
        return sum(sheet.footer_lines for sheet in self.sheets)

    @property
    def bad_rows(self) -> int:
        """How many rows have a problem (a row with three problems is one)."""
        return len({(error.sheet, error.line) for error in self.errors})


def parse_roster(path: Path, *, sheet: str | None = None, words: RosterWords | Path | None = None) -> ParsedRoster:
    """Read and check a roster file: every sheet of an .xlsx that has a roster header (hidden ones and ones
    without a header are listed as skipped), or only ``sheet``; ``words`` is the words table (a town's file merged
    over the defaults: ``load_words``) or a town's file. RosterFileError when the file cannot be read as a roster."""
    path = Path(path)
    table = resolve_words(words)
    sheets = read_sheets(path)
    chosen = _choose(sheets, sheet, path)
    result = ParsedRoster(encoding=sheets[0].encoding if sheets else None)
    seen: dict[str, tuple[str, int]] = {}
    for current in chosen:
        if sheet is None and len(sheets) > 1 and (current.hidden or not current.rows):
            result.skipped_sheets.append(SkippedSheet(current.name, "hidden" if current.hidden else "empty"))
            continue
        layout = find_layout(current, path.name)
        if layout is None:
            if len(chosen) == 1:
                raise no_header_error(path.name, current)
            result.skipped_sheets.append(SkippedSheet(current.name, "no_header"))
            continue
        _read_sheet(current, layout, table, result, seen)
    if not result.sheets:
        raise RosterFileError(
            "sheet.none",
            file=path.name,
            sheets=[s.name for s in sheets],
            rows=HEADER_SCAN_ROWS,
            known=describe_known_headers(),
        )
    first = result.sheets[0]
    result.columns, result.ignored_headers, result.header_line = first.columns, first.ignored_headers, first.header_line
    return result


def _choose(sheets: list[Sheet], wanted: str | None, path: Path) -> list[Sheet]:
    if wanted is None:
        return sheets
    if path.suffix.lower() != ".xlsx":
        raise RosterFileError("sheet.csv", file=path.name)
    exact = [s for s in sheets if s.name == wanted]
    loose = [s for s in sheets if word_key(s.name) == word_key(wanted)]
    if exact or len(loose) == 1:
        return (exact or loose)[:1]
    raise RosterFileError("sheet.unknown", file=path.name, sheet=wanted, sheets=[s.name for s in sheets])


def _read_sheet(
    sheet: Sheet, layout: Layout, words: RosterWords, result: ParsedRoster, seen: dict[str, tuple[str, int]]
) -> None:
    """The rows below the header: good ones kept, bad ones reported, footer lines counted and skipped; an ID
    number seen before (in this sheet or an earlier one) is reported."""
    summary = SheetSummary(
        sheet.name,
        layout.last,
        {name: layout.headers[col - 1] for name, col in layout.columns.items()},
        list(layout.ignored),
    )
    reader = RowReader(sheet, layout, words, _titled_residency(sheet, layout, words))
    read_columns = list(layout.columns.values())
    id_col, name_col = layout.columns["id_number"], layout.columns["name"]
    in_footer = False
    bad_lines: set[int] = set()
    for line in _lines_once(sheet, layout.last + 1):
        cells = sheet.rows[line - 1]
        if not any(cell.strip() for cell in cells):
            continue
        id_cell, name_cell = sheet.cell(line, id_col), sheet.cell(line, name_col)
        if is_footer(cells, id_cell, words) or (in_footer and not id_cell.strip() and not name_cell.strip()):
            summary.footer_lines += 1
            in_footer = True
            continue
        if not any(sheet.cell(line, col).strip() for col in read_columns):
            continue  # only a 序号 (a numbered row left empty) or other columns not read
        row, errors = reader.read(line)
        number = row.resident.get("id_number") if row else None
        if isinstance(number, str) and number in seen:
            first_sheet, first_line = seen[number]
            if first_sheet == sheet.name:
                errors.append(reader.error(line, "id_number", "row.same_id", other_line=first_line))
            else:
                errors.append(
                    reader.error(line, "id_number", "row.same_id_sheet", other_sheet=first_sheet, other_line=first_line)
                )
        elif isinstance(number, str) and not errors:
            seen[number] = (sheet.name, line)
        if errors:
            result.errors.extend(errors)
            bad_lines.add(line)
        elif row is not None:
            result.rows.append(row)
            summary.rows += 1
    summary.bad_rows = len(bad_lines)
    result.sheets.append(summary)


def _lines_once(sheet: Sheet, first: int) -> Iterator[int]:
    """The sheet's line numbers from ``first``; each row's text is dropped once the loop moves past it (nothing looks
    back), so a big sheet's raw rows and its parsed rows are not all held together at the end. parse_roster read the
    sheet itself, so no caller sees it emptied."""
    for line in range(first, len(sheet.rows) + 1):
        yield line
        sheet.rows[line - 1] = []


def _titled_residency(sheet: Sheet, layout: Layout, words: RosterWords) -> str:
    """The residency of rows that give none: what the sheet's name and title rows say (``流动人口台账`` ->
    floating) when they name one kind of people, else resident."""
    title = word_key(" ".join([sheet.name, *(cell for row in sheet.rows[: layout.first - 1] for cell in row)]))
    named = {meaning for word, meaning in words.residency.items() if len(word) >= 4 and word in title}
    return named.pop() if len(named) == 1 else "resident"
