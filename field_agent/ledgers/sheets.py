"""Read a roster file (.xlsx or .csv) into sheets of text rows, noting merged cells, numeric cells, hidden sheets and
the encoding found."""

from __future__ import annotations

import csv
import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import ParseError

from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

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
    """Every worksheet, streamed: openpyxl's read-only mode keeps no Cell object per cell (normal mode costs ~7 KB a
    roster row), so only the text rows are held. What read-only worksheets lack, the merged ranges, comes from each
    worksheet part's ``<mergeCells>``."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except _BAD_XLSX as error:
        raise _bad_xlsx(path, error) from None
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _worksheet_parts(archive)
            return [_worksheet(sheet, _merges(archive, parts.get(sheet.title))) for sheet in book.worksheets]
    except _BAD_XLSX as error:
        raise _bad_xlsx(path, error) from None
    finally:
        book.close()


# what a damaged or foreign file raises while it is opened or streamed (ParseError: a part that is not XML;
# defusedxml's refusals are ValueErrors)
_BAD_XLSX = (InvalidFileException, zipfile.BadZipFile, zlib.error, KeyError, ValueError, OSError, ParseError)


def _bad_xlsx(path: Path, error: Exception) -> RosterFileError:
    detail = (str(error).splitlines() or [type(error).__name__])[0].rstrip(".") or type(error).__name__
    return RosterFileError("file.bad_xlsx", file=path.name, detail=detail)


def _worksheet(sheet: ReadOnlyWorksheet, merges: list[Merge]) -> Sheet:
    # The <dimension> a file declares may be wrong (some writers leave A1, and read-only mode would then stop at row
    # 1): without it every row in the file is read, each as long as its last cell, a missing row as an empty one.
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    numeric: set[tuple[int, int]] = set()
    for r, row in enumerate(sheet.values, start=1):  # iter_rows(values_only=True)
        rows.append(_trim_row([_text(v) for v in row]))
        for c, value in enumerate(row, start=1):
            if isinstance(value, int | float) and not isinstance(value, bool):
                numeric.add((r, c))
    _blank_merged(rows, numeric, merges)
    while rows and not rows[-1]:
        rows.pop()
    return Sheet(
        rows=rows, merges=merges, numeric_cells=numeric, name=sheet.title, hidden=sheet.sheet_state != "visible"
    )


def _blank_merged(rows: list[list[str]], numeric: set[tuple[int, int]], merges: list[Merge]) -> None:
    """A merged block shows only its top-left cell: whatever the file keeps in the others (LibreOffice can keep
    their old contents) is dropped, as openpyxl's normal mode does."""
    for merge in merges:
        for r in range(merge.min_row, min(merge.max_row, len(rows)) + 1):
            row = rows[r - 1]
            first = merge.min_col + 1 if r == merge.min_row else merge.min_col
            touched = False
            for c in range(first, min(merge.max_col, len(row)) + 1):
                numeric.discard((r, c))
                if row[c - 1]:
                    row[c - 1] = ""
                    touched = True
            if touched:
                rows[r - 1] = _trim_row(row)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _worksheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name -> its worksheet part in the package: the workbook part that the package's relationships
    (``_rels/.rels``) name, its ``<sheet name= r:id=>`` entries resolved through the workbook's relationships."""
    workbook = next(
        (path for _, kind, path in _relationships(archive, "_rels/.rels", "") if kind == _OFFICE_DOCUMENT),
        "xl/workbook.xml",
    )
    folder, _, file = workbook.rpartition("/")
    targets = {rel_id: path for rel_id, _, path in _relationships(archive, f"{folder}/_rels/{file}.rels", folder)}
    parts: dict[str, str] = {}
    for sheet in fromstring(archive.read(workbook)).iter(f"{{{_MAIN}}}sheet"):
        target = targets.get(sheet.get(_R_ID, ""))
        if target is not None:
            parts[sheet.get("name", "")] = target
    return parts


def _relationships(archive: zipfile.ZipFile, part: str, folder: str) -> list[tuple[str, str, str]]:
    """A relationships part's (Id, Type, package path of the target); a target is relative to ``folder`` unless
    it starts with '/'; none when the part is missing."""
    try:
        data = archive.read(part.lstrip("/"))
    except KeyError:
        return []
    found = []
    for rel in fromstring(data).iter(f"{{{_PACKAGE_RELS}}}Relationship"):
        target = rel.get("Target", "")
        path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), path))
    return found


def _merges(archive: zipfile.ZipFile, part: str | None) -> list[Merge]:
    """The merged blocks of a worksheet part, from its ``<mergeCells>``."""
    if part is None:
        return []
    with archive.open(part) as source:
        root = fromstring(_without_cells(source))
    merges = []
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.rpartition("}")[2] == "mergeCell":
            min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
            if min_row is not None and min_col is not None and max_row is not None and max_col is not None:
                merges.append(Merge(min_row, min_col, max_row, max_col))
    return merges


_CHUNK = 1 << 20
_SHEET_DATA_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData(?=[\s/>])")
_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>")


def _without_cells(source: IO[bytes]) -> bytes:
    """A worksheet part's XML without its ``<sheetData>`` element: the cells, nearly all of the part, are streamed
    past in chunks and never held (an XML parser takes 8-18 s over a 100,000-row sheet that this skips in 0.3 s).
    ``<`` cannot occur in XML text or attribute values, so the two patterns match only the element's own tags."""
    head = b""
    while (start := _SHEET_DATA_START.search(head)) is None:
        chunk = source.read(_CHUNK)
        if not chunk:
            return head  # no cells at all
        head += chunk
    close = head.find(b">", start.end())
    while close < 0:  # the start tag runs past the chunk
        chunk = source.read(_CHUNK)
        if not chunk:
            raise ParseError("unterminated sheetData")
        head += chunk
        close = head.find(b">", start.end())
    before, window = head[: start.start()], head[close + 1 :]
    if head[close - 1 : close] == b"/":  # <sheetData/>
        return before + window + source.read()
    while (end := _SHEET_DATA_END.search(window) if b"sheetData" in window else None) is None:
        chunk = source.read(_CHUNK)
        if not chunk:
            raise ParseError("unterminated sheetData")
        window = window[-256:] + chunk
    return before + window[end.end() :] + source.read()


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
    trimmed = [_trim_row(row) for row in rows]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def _trim_row(row: list[str]) -> list[str]:
    """The row without its trailing empty cells (the same list when it has none)."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row if end == len(row) else row[:end]
