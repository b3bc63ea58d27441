"""The .xlsx and .csv files: what Excel shows (title, Chinese headers, frozen header, widths, text ID numbers)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from field_agent.ledgers.builder import build_ledger
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.errors import ExportFormatError, LedgerError
from field_agent.ledgers.writers import write_ledger

from .town import TODAY


@pytest.mark.parametrize("name", list(load_definitions()))
def test_xlsx_opens_with_title_headers_frozen_row_and_every_row(
    name: str, demo: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = build_ledger(name, demo, today=TODAY)
    path = tmp_path / f"{name}.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    title = sheet["A1"].value
    assert ledger.title in title and TODAY.isoformat() in title and "已脱敏" in title
    assert [c.value for c in sheet[2]] == ledger.headers
    assert sheet.freeze_panes == "A3"
    assert sheet.max_row == 2 + len(ledger.rows)
    body = [[("" if v is None else v) for v in row] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert body == ledger.rows
    for index, column in enumerate(ledger.columns, start=1):
        width = sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width
        assert width >= column.width and width >= len(column.zh) + 2


def test_id_numbers_are_text_cells_even_unmasked(demo: list[dict[str, Any]], tmp_path: Path) -> None:
    ledger = build_ledger("residents", demo, today=TODAY, masked=False)
    path = tmp_path / "full.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    column = ledger.headers.index("公民身份号码") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(3, sheet.max_row + 1)]
    assert cells and all(c.data_type == "s" and c.number_format == "@" and len(c.value) == 18 for c in cells)
    assert "保密" in sheet["A1"].value


def test_csv_has_a_bom_a_title_line_and_the_headers(town: list[dict[str, Any]], tmp_path: Path) -> None:
    ledger = build_ledger("isolation", town, today=TODAY)
    path = tmp_path / "isolation.csv"
    write_ledger(ledger, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert ledger.title in rows[0][0]
    assert rows[1] == ledger.headers
    assert [r[1] for r in rows[2:]] == [row[1] for row in ledger.rows]
    assert len(rows) == 2 + len(ledger.rows)


def test_other_extensions_are_refused_and_nothing_is_left_behind(town: list[dict[str, Any]], tmp_path: Path) -> None:
    ledger = build_ledger("visits", town, today=TODAY)
    with pytest.raises(ExportFormatError, match=r"\.xlsx or \.csv"):
        write_ledger(ledger, tmp_path / "visits.pdf")
    with pytest.raises(LedgerError, match="does not exist"):
        write_ledger(ledger, tmp_path / "missing" / "visits.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_whole(town: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("old content that is much longer than nothing\n" * 100, encoding="utf-8")
    write_ledger(build_ledger("visits", town, today=TODAY), path)
    assert "old content" not in path.read_text("utf-8-sig")
    assert [p.name for p in tmp_path.iterdir()] == ["visits.csv"]
