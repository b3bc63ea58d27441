"""Read a roster file (.xlsx or .csv) into sheets of text rows, noting merged cells, numeric cells, hidden sheets and
the encoding found."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from field_agent.ledgers.errors import RosterFileError


@dataclass(frozen=True, slots=True)
class Merge:
    """A merged block of cells, 1-based and inclusive."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def contains(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


@dataclass
class Sheet:
    """One worksheet's cells as text: ``rows[i][j]`` is spreadsheet row i+1, column j+1. ``name`` is the sheet's
    name ('' for a CSV file); ``hidden`` when Excel does not show it."""

    rows: list[list[str]]
    merges: list[Merge] = field(default_factory=list)
    numeric_cells: set[tuple[int, int]] = field(default_factory=set)
    encoding: str | None = None
    name: str = ""
    hidden: bool = False

    def cell(self, row: int, col: int) -> str:
        """The text of a 1-based cell, '' outside the sheet."""
        if 1 <= row <= len(self.rows) and 1 <= col <= len(self.rows[row - 1]):
            return self.rows[row - 1][col - 1]
        return ""

    def fill_merges(self, from_row: int) -> None:
        """Copy each merged block's value into all its cells at or below ``from_row`` (a household's merged
        address or head then applies to every member)."""
        width = max((len(r) for r in self.rows), default=0)
        for row in self.rows:
            row.extend([""] * (width - len(row)))
        for merge in self.merges:
            value = self.cell(merge.min_row, merge.min_col)
            for r in range(max(merge.min_row, from_row), merge.max_row + 1):
                for c in range(merge.min_col, merge.max_col + 1):
                    if r <= len(self.rows):
                        self.rows[r - 1][c - 1] = value


def read_sheets(path: Path) -> list[Sheet]:
    """Every worksheet of an .xlsx, in the workbook's order; or the one table of a .csv in UTF-8 (with or without
    BOM), UTF-16 or GBK."""
    if not path.is_file():
        raise RosterFileError("file.missing", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return [_read_csv(path)]
    if suffix in (".xls", ".et", ".wps", ".numbers", ".ods"):
        raise RosterFileError("file.old_format", file=path.name)
    raise RosterFileError("file.not_roster_format", file=path.name)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(path: Path) -> list[Sheet]:
    try:
        book = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        detail = (str(error).splitlines() or [type(error).__name__])[0].rstrip(".")
        raise RosterFileError("file.bad_xlsx", file=path.name, detail=detail) from None
    try:
        return [_worksheet(sheet) for sheet in book.worksheets]
    finally:
        book.close()


def _worksheet(sheet: Worksheet) -> Sheet:
    rows: list[list[str]] = []
    numeric: set[tuple[int, int]] = set()
    for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        rows.append([_text(v) for v in row])
        for c, value in enumerate(row, start=1):
            if isinstance(value, int | float) and not isinstance(value, bool):
                numeric.add((r, c))
    merges = [
        Merge(m.min_row, m.min_col, m.max_row, m.max_col) for m in sheet.merged_cells.ranges if m.min_row is not None
    ]
    return Sheet(
        rows=_trim(rows),
        merges=merges,
        numeric_cells=numeric,
        name=sheet.title,
        hidden=sheet.sheet_state != "visible",
    )


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise RosterFileError("file.encoding", file=name) from None


def _read_csv(path: Path) -> Sheet:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterFileError("file.unreadable", file=path.name, detail=error.strerror or "") from None
    try:
        text, encoding = _decode(data, path.name)
    except UnicodeDecodeError:
        raise RosterFileError("file.bad_unicode", file=path.name) from None
    if "\x00" in text:
        raise RosterFileError("file.binary", file=path.name)
    sample = text[:4096]
    delimiter = max(",\t;", key=sample.count) if any(d in sample for d in ",\t;") else ","
    try:
        rows = [
            [_unwrap(cell.strip()) for cell in row]
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as error:
        raise RosterFileError("file.bad_csv", file=path.name, detail=str(error)) from None
    return Sheet(rows=_trim(rows), encoding=encoding)


def _unwrap(cell: str) -> str:
    """A CSV cell written ``="350181…"`` (so that a spreadsheet keeps the digits as text) is its text."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1]
    return cell


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """Drop trailing empty cells and trailing empty rows (Excel often keeps formatted blanks)."""
    trimmed = []
    for row in rows:
        end = len(row)
        while end and not row[end - 1]:
            end -= 1
        trimmed.append(list(row[:end]))
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed
