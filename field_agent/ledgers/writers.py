"""Write a built ledger to .xlsx (openpyxl), set up to print, or to .csv (UTF-8 with BOM, so Excel opens it).

The .xlsx sheet prints on A4 landscape, one page wide: a 序号 column first, the header row repeated on every page,
the ledger, scope and date in the page header, ``第 N 页 共 M 页`` in the footer, a signature line at the end.
Dates and times are date cells, ages and counts numbers, a coverage a number shown as a percentage. The .csv file
holds the same cells as text; ID numbers and phones are written so a spreadsheet keeps them as text (``csv_text``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.cell.cell import MergedCell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from field_agent.ledgers.builder import Ledger
from field_agent.ledgers.cells import (
    PERCENT,
    XLSX_DATE,
    XLSX_DATETIME,
    XLSX_PERCENT,
    Cell,
    cell_text,
    is_number,
)
from field_agent.ledgers.csv_text import protect
from field_agent.ledgers.definitions import Column
from field_agent.ledgers.errors import ExportFormatError, ExportWriteError

FORMATS = (".xlsx", ".csv")
TEXT_FORMAT = "@"
MASK_NOTE = "身份证号、电话已脱敏"
FULL_NOTE = "含完整身份证号、电话，注意保密"
INDEX_HEADER = "序号"
SIGNATURE_LINE = "填表人：________________　　　　审核人：________________　　　　日期：________________"
PAGE_NUMBERS = "第 &P 页 共 &N 页"

# Print layout: A4 landscape, fit to one page wide. Column widths are in Excel's units (about one digit of the
# default 11-point font); a text column wraps at its definition's width instead of widening the table.
TITLE_SIZE = 16
SUBTITLE_SIZE = 10
HEADER_LINES = 2  # a long header wraps onto two lines rather than widening its column
LINE_HEIGHT = 15.0  # points per line of 11-point text
MARGINS = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.6, header=0.3, footer=0.3)  # inches
_A4_LANDSCAPE_INCHES = 297 / 25.4


def title_line(ledger: Ledger) -> str:
    """The title above the headers: what, where, when, and whether personal data is masked."""
    return "　".join(p for p in (ledger.title, subtitle(ledger)) if p)


def subtitle(ledger: Ledger) -> str:
    parts = [
        ledger.scope,
        f"制表日期 {ledger.today.isoformat()}",
        MASK_NOTE if ledger.masked else FULL_NOTE,
        ledger.summary,
    ]
    return "　".join(p for p in parts if p)


def export_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportFormatError(
            f"cannot export to {path.name}: name the file .xlsx or .csv", code="export_format", file=path.name
        )
    return suffix


def export_suffix(out: Path | None, fmt: str | None = None) -> str:
    """The format an export writes: ``fmt`` (``xlsx`` or ``csv``), else the file's extension; .xlsx when ``out`` is
    a folder or not given. Checked before anything is built or audited."""
    wanted = f".{fmt.lower().lstrip('.')}" if fmt else None
    if wanted is not None and wanted not in FORMATS:
        raise ExportFormatError(
            f"cannot export to {fmt}: name the file .xlsx or .csv", code="export_format", file=str(fmt)
        )
    if out is None or out.is_dir():
        return wanted or ".xlsx"
    suffix = export_format(out)
    if wanted is not None and wanted != suffix:
        raise ExportFormatError(
            f"--format {fmt} does not match {out.name}: leave out --format or name the file {wanted}",
            code="format_mismatch",
            format=wanted.lstrip("."),
            file=out.name,
        )
    return suffix


def export_path(out: Path | None, ledger: Ledger, suffix: str) -> Path:
    """Where an export goes: ``out`` itself, or ``default_file_name`` in the folder ``out`` (the current one when
    not given)."""
    if out is None:
        return Path(default_file_name(ledger, suffix))
    if out.is_dir():
        return out / default_file_name(ledger, suffix)
    return out


def write_ledger(ledger: Ledger, path: Path) -> str:
    """Write to .xlsx or .csv by the file's extension; return the format written."""
    suffix = export_format(path)
    _atomic_write(path, lambda tmp: (write_xlsx if suffix == ".xlsx" else write_csv)(ledger, tmp))
    return suffix


# --- file names ---------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")
NAME_PART_LIMIT = 60


def file_name_part(text: str) -> str:
    """Text made safe in a file name on Windows, macOS and Linux: no path or reserved characters, no spaces."""
    normal = unicodedata.normalize("NFC", text)
    cleaned = _UNSAFE.sub("_", "_".join(normal.split())).strip("._ ")[:NAME_PART_LIMIT].strip("._ ")
    return f"_{cleaned}" if _RESERVED.fullmatch(cleaned) else cleaned


def default_file_name(ledger: Ledger, suffix: str = ".xlsx") -> str:
    """``东门社区第一网格-常住人口台账-2026-12-05.xlsx``: where, which ledger, which day."""
    parts = (file_name_part(ledger.short_scope), file_name_part(ledger.title) or ledger.name)
    return "-".join(p for p in (*parts, ledger.today.isoformat()) if p) + suffix


def ascii_file_name(ledger: Ledger, suffix: str = ".xlsx") -> str:
    """An ASCII-only name for clients that cannot read a UTF-8 one: ``residents-2026-12-05.xlsx``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", ledger.name) or "ledger"
    return f"{name}-{ledger.today.isoformat()}{suffix}"


# --- .csv -------------------------------------------------------------------------------------------------------


def write_csv(ledger: Ledger, path: Path) -> None:
    """The title line, the headers, then one line per row; every cell as text (``Ledger.text_rows``)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([title_line(ledger)])
        writer.writerow(ledger.headers)
        for row in ledger.text_rows():
            writer.writerow([protect(cell) for cell in row])


# --- .xlsx ------------------------------------------------------------------------------------------------------


def xlsx_bytes(ledger: Ledger) -> bytes:
    """The .xlsx file as bytes, for a download that never touches the disk."""
    buffer = io.BytesIO()
    write_xlsx(ledger, buffer)
    return buffer.getvalue()


_THIN = Side(style="thin", color="808080")
_BOX = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(vertical="center", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="center")
_RIGHT = Alignment(horizontal="right", vertical="center")
# one named cell style per kind of cell: set by name, far faster than a border and an alignment on every cell
_CELL_STYLES = {
    "ledger text": (_WRAP, "General"),
    "ledger centred": (_CENTER, "General"),
    "ledger code": (_CENTER, TEXT_FORMAT),
    "ledger number": (_RIGHT, "General"),
    "ledger percent": (_RIGHT, XLSX_PERCENT),
    "ledger date": (_CENTER, XLSX_DATE),
    "ledger time": (_CENTER, XLSX_DATETIME),
}


def _add_cell_styles(book: Workbook) -> None:
    for name, (alignment, number_format) in _CELL_STYLES.items():
        book.add_named_style(NamedStyle(name=name, border=_BOX, alignment=alignment, number_format=number_format))


def write_xlsx(ledger: Ledger, path: Path | BinaryIO) -> None:
    book = Workbook()
    sheet = book.active  # a new workbook's one sheet
    if not isinstance(sheet, Worksheet):
        raise TypeError(f"a new workbook's active sheet is a {type(sheet).__name__}")
    sheet.title = re.sub(r"[\[\]:*?/\\]", "_", ledger.title)[:31] or "ledger"  # Excel's sheet-name rules
    _add_cell_styles(book)
    widths = column_widths(ledger)
    width = len(widths)
    last = get_column_letter(width)
    _title_row(sheet, ledger, widths)
    headers = [INDEX_HEADER, *ledger.headers]
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=2, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
    sheet.row_dimensions[2].height = row_height(headers, widths)
    for number, row in enumerate(ledger.rows, start=1):
        r = number + 2
        sheet.cell(row=r, column=1, value=number).style = "ledger centred"
        for col, (value, column) in enumerate(zip(row, ledger.columns, strict=True), start=2):
            _body_cell(sheet.cell(row=r, column=col), value, column)
        wrapped = [v if isinstance(v, str) and not c.mask else "" for v, c in zip(row, ledger.columns, strict=True)]
        if any(wrapped):
            sheet.row_dimensions[r].height = row_height(["", *wrapped], widths)
    for col, fitted in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = fitted
    end = len(ledger.rows) + 2
    signature = end + 2
    # one cell, not merged: it prints across the empty cells beside it, and a program reading the sheet back sees
    # one footer cell rather than the line repeated in every column
    sheet.cell(row=signature, column=1, value=SIGNATURE_LINE).alignment = Alignment(vertical="bottom")
    sheet.row_dimensions[signature].height = 30
    sheet.freeze_panes = "A3"
    if ledger.rows:
        sheet.auto_filter.ref = f"A2:{last}{end}"
    _print_setup(sheet, ledger, f"A1:{last}{signature}")
    book.save(path)


def _title_row(sheet: Worksheet, ledger: Ledger, widths: Sequence[float]) -> None:
    """Row 1, merged across the table: the ledger's title large, then scope, date and masking on a second line."""
    rest = subtitle(ledger)
    text = CellRichText(
        TextBlock(InlineFont(b=True, sz=TITLE_SIZE), ledger.title),
        TextBlock(InlineFont(sz=SUBTITLE_SIZE), f"\n{rest}"),
    )
    cell = sheet.cell(row=1, column=1, value=text)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if len(widths) > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(widths))
    # a merged cell's height is never fitted to its text: room for as many lines as the text takes at this width
    room = sum(widths)
    lines = math.ceil(text_width(ledger.title) * TITLE_SIZE / 11 / room) + math.ceil(
        text_width(rest) * SUBTITLE_SIZE / 11 / room
    )
    sheet.row_dimensions[1].height = 8 + TITLE_SIZE * 1.4 + (lines - 1) * SUBTITLE_SIZE * 1.5


def _body_cell(cell: SheetCell | MergedCell, value: Cell, column: Column) -> None:
    if column.mask:  # ID numbers and phones: text cells, so no spreadsheet ever turns them into numbers
        cell.value, cell.style = ("" if value is None else str(value)), "ledger code"
    elif isinstance(value, dt.datetime):  # already in town time; a workbook has no time zones
        cell.value, cell.style = value.replace(tzinfo=None), "ledger time"
    elif isinstance(value, dt.date):
        cell.value, cell.style = value, "ledger date"
    elif is_number(value):
        cell.value, cell.style = value, ("ledger percent" if column.format == PERCENT else "ledger number")
    else:
        cell.value, cell.style = value, "ledger text"
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # a note typed as =HYPERLINK(...) is its text, never a formula (openpyxl's guess)


def _print_setup(sheet: Worksheet, ledger: Ledger, area: str) -> None:
    """A4 landscape, one page wide (as many pages long as the rows need), header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = MARGINS
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = "2:2"
    sheet.print_area = area
    header, footer = sheet.oddHeader, sheet.oddFooter
    if header is None or footer is None:  # a new sheet has both
        raise TypeError("a new worksheet has no page header or footer")
    header.left.text, header.left.size = _header_text(ledger.scope), 9
    header.center.text, header.center.size = _header_text(ledger.title), 9
    header.right.text, header.right.size = f"制表日期 {ledger.today.isoformat()}", 9
    footer.left.text, footer.left.size = MASK_NOTE if ledger.masked else FULL_NOTE, 9
    footer.center.text, footer.center.size = PAGE_NUMBERS, 9


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # '&' starts a code (&P, &N) in a page header


def column_widths(ledger: Ledger) -> list[float]:
    """Each column's width: 序号 first, then each column as wide as its content, its header on at most two lines, and
    a text column no wider than its definition's ``width`` (longer text wraps)."""
    widths = [max(5.0, len(str(len(ledger.rows))) + 3.0)]
    for i, column in enumerate(ledger.columns):
        header = text_width(column.zh)
        need = header + 2 if header <= 9 else math.ceil(header / HEADER_LINES) + 2
        for row in ledger.rows:
            value = row[i]
            shown = text_width(cell_text(value, column.format))
            if isinstance(value, str) and not column.mask:
                shown = min(shown, column.width)  # wraps beyond its width
            need = max(need, shown + 2)
        widths.append(float(math.ceil(need)))
    return widths


def row_height(texts: Sequence[str], widths: Sequence[float]) -> float:
    """Points a row needs to show each cell's text wrapped in its column: neither Excel nor LibreOffice fits a row
    to wrapped text when it opens a file, so the writer does (one line is 15 points at 11 points type)."""
    lines = max((wrapped_lines(text, width) for text, width in zip(texts, widths, strict=True)), default=1)
    return LINE_HEIGHT * lines + 2 if lines > 1 else LINE_HEIGHT


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` wide (a CJK character is about two digits wide)."""
    room = max(1.0, width - 1.5)
    return max(1, sum(math.ceil(text_width(part) / room) or 1 for part in text.split("\n")))


def page_scale(widths: Sequence[float]) -> float:
    """The scale a one-page-wide A4 landscape print of columns this wide takes (1.0 = 100%), from Excel's rule:
    a column of width w is about 7w + 5 pixels at 96 per inch."""
    printable = (_A4_LANDSCAPE_INCHES - MARGINS.left - MARGINS.right) * 96
    return min(1.0, printable / sum(7 * w + 5 for w in widths))


WIDE_CHARACTER = 2.1
"""Column-width units a CJK or full-width character takes (11-point type in Excel: about 15 pixels, a digit 7)."""


def text_width(value: object) -> float:
    """The column width ``value`` takes as a spreadsheet shows it: a CJK or full-width character about two digits."""
    return sum(WIDE_CHARACTER if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in str(value))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside the target and rename over it, so a failed export never leaves half a file."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ExportWriteError(
            f"cannot write {path}: folder {directory} does not exist", code="folder_missing", folder=str(directory)
        )
    try:
        handle, temp_name = tempfile.mkstemp(prefix=".ledger-", suffix=path.suffix, dir=directory)
    except OSError as error:
        raise ExportWriteError(
            f"cannot write {path}: {error.strerror or error}",
            code="folder_unwritable",
            folder=str(directory),
            reason=error,
        ) from None
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ExportWriteError(
            f"cannot write {path}: {error.strerror or error}",
            code="file_unwritable",
            file=str(path),
            reason=error,
        ) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
