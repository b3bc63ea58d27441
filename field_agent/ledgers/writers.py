"""Write a built ledger to .xlsx (openpyxl) or .csv (UTF-8 with BOM, so Excel opens it)."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from field_agent.ledgers.builder import Ledger
from field_agent.ledgers.errors import ExportFormatError, LedgerError

FORMATS = (".xlsx", ".csv")
TEXT_FORMAT = "@"
MASK_NOTE = "身份证号、电话已脱敏"
FULL_NOTE = "含完整身份证号、电话，注意保密"


def title_line(ledger: Ledger) -> str:
    """The line above the headers: what, where, when, and whether personal data is masked."""
    parts = [
        ledger.title,
        ledger.scope,
        f"制表日期 {ledger.today.isoformat()}",
        MASK_NOTE if ledger.masked else FULL_NOTE,
    ]
    return "　".join(p for p in parts if p)


def export_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportFormatError(f"cannot export to {path.name}: name the file .xlsx or .csv")
    return suffix


def write_ledger(ledger: Ledger, path: Path) -> str:
    """Write to .xlsx or .csv by the file's extension; return the format written."""
    suffix = export_format(path)
    _atomic_write(path, lambda tmp: (write_xlsx if suffix == ".xlsx" else write_csv)(ledger, tmp))
    return suffix


def write_csv(ledger: Ledger, path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([title_line(ledger)])
        writer.writerow(ledger.headers)
        for row in ledger.rows:
            writer.writerow(["" if cell is None else cell for cell in row])


def xlsx_bytes(ledger: Ledger) -> bytes:
    """The .xlsx file as bytes, for a download that never touches the disk."""
    buffer = io.BytesIO()
    write_xlsx(ledger, buffer)
    return buffer.getvalue()


def write_xlsx(ledger: Ledger, path: Path | BinaryIO) -> None:
    book = Workbook()
    sheet = book.active  # a new workbook's one sheet
    if not isinstance(sheet, Worksheet):
        raise TypeError(f"a new workbook's active sheet is a {type(sheet).__name__}")
    sheet.title = re.sub(r"[\[\]:*?/\\]", "_", ledger.title)[:31] or "ledger"  # Excel's sheet-name rules
    width = len(ledger.columns)
    sheet.cell(row=1, column=1, value=title_line(ledger)).font = Font(bold=True, size=14)
    if width > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 24
    thin = Side(style="thin", color="999999")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, column in enumerate(ledger.columns, start=1):
        cell = sheet.cell(row=2, column=col, value=column.zh)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    text_columns = {i for i, c in enumerate(ledger.columns) if c.mask}
    for r, row in enumerate(ledger.rows, start=3):
        for i, value in enumerate(row):
            cell = sheet.cell(row=r, column=i + 1, value=str(value) if i in text_columns else value)
            if i in text_columns:
                cell.number_format = TEXT_FORMAT
    for col, column in enumerate(ledger.columns, start=1):
        longest = max((_display_width(row[col - 1]) for row in ledger.rows), default=0)
        fitted = max(column.width, _display_width(column.zh) + 2, min(longest + 2, 60))
        sheet.column_dimensions[get_column_letter(col)].width = fitted
    sheet.freeze_panes = "A3"
    if ledger.rows:
        sheet.auto_filter.ref = f"A2:{get_column_letter(width)}{len(ledger.rows) + 2}"
    book.save(path)


def _display_width(value: object) -> int:
    """Characters as Excel shows them: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside the target and rename over it, so a failed export never leaves half a file."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise LedgerError(f"cannot write {path}: folder {directory} does not exist")
    handle, temp_name = tempfile.mkstemp(prefix=".ledger-", suffix=path.suffix, dir=directory)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise LedgerError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
