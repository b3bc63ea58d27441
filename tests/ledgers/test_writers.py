"""The .xlsx and .csv files: what Excel shows and prints (title, 序号, headers on every page, page setup, signature
line, real dates and numbers) and what a spreadsheet keeps of a CSV (ID numbers as text)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from field_agent.ledgers.builder import Ledger, build_ledger
from field_agent.ledgers.cells import cell_text
from field_agent.ledgers.csv_text import protect, unprotect
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.errors import ExportFormatError, LedgerError
from field_agent.ledgers.writers import column_widths, default_file_name, file_name_part, page_scale, write_ledger

from .town import G1, TODAY

ID_NUMBER = "350181198305273959"


def data_rows(sheet: Any) -> list[tuple[Any, ...]]:
    """The rows below the title and the header that 序号 numbers (the signature line follows them)."""
    return [row for row in sheet.iter_rows(min_row=3, values_only=True) if isinstance(row[0], int)]


def as_read_back(value: object) -> object:
    """A ledger cell as openpyxl reads it back: dates and times as naive datetimes (the town's wall clock)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return value


@pytest.mark.parametrize("name", list(load_definitions()))
def test_xlsx_has_title_numbered_rows_every_cell_and_a_signature_line(
    name: str, demo: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = build_ledger(name, demo, today=TODAY)
    path = tmp_path / f"{name}.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    title = sheet["A1"].value
    assert ledger.title in title and TODAY.isoformat() in title and "已脱敏" in title
    assert [c.value for c in sheet[2]] == ["序号", *ledger.headers]
    assert sheet.freeze_panes == "A3"
    rows = data_rows(sheet)
    assert [row[0] for row in rows] == list(range(1, len(ledger.rows) + 1))
    body = [[("" if v is None else v) for v in row[1:]] for row in rows]
    assert body == [[as_read_back(v) for v in row] for row in ledger.rows]
    signature = str(sheet.cell(row=len(ledger.rows) + 4, column=1).value)
    assert all(word in signature for word in ("填表人：", "审核人：", "日期："))


@pytest.mark.parametrize("name", list(load_definitions()))
def test_every_sheet_prints_a4_landscape_one_page_wide_with_header_footer(
    name: str, town: list[dict[str, Any]], tmp_path: Path
) -> None:
    one_grid = [e for e in town if e["grid"] == G1]
    ledger = build_ledger(name, one_grid, today=TODAY)
    path = tmp_path / f"{name}.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", int(sheet.PAPERSIZE_A4))
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0) and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"  # the header row on every page
    last_row = len(ledger.rows) + 4  # title, header, rows, a blank line, the signature line
    assert sheet.print_area.endswith(f"$A$1:${openpyxl.utils.get_column_letter(len(ledger.columns) + 1)}${last_row}")
    assert sheet.oddHeader.left.text == "城关镇 东门社区 第一网格"
    assert sheet.oddHeader.center.text == ledger.title
    assert sheet.oddHeader.right.text == f"制表日期 {TODAY.isoformat()}"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert sheet.oddFooter.left.text == "身份证号、电话已脱敏"
    margins = sheet.page_margins
    assert max(margins.left, margins.right) <= 0.5 and max(margins.top, margins.bottom) <= 0.75
    assert sheet.print_options.horizontalCentered


@pytest.mark.parametrize("name", list(load_definitions()))
def test_the_widest_possible_rows_still_print_at_a_legible_scale(name: str) -> None:
    """Text as long as anyone writes it in every column: long text wraps in its column instead of widening the table,
    so one page width holds the whole row at 55% or more (about 6-point type)."""
    definition = load_definitions()[name]
    row = [ID_NUMBER if c.mask else "很长的一段文字" * 8 for c in definition.columns]
    ledger = Ledger(name, definition.title_zh, "城关镇", TODAY, False, definition.columns, [row] * 10)
    assert page_scale(column_widths(ledger)) >= 0.55


def test_long_text_wraps_and_its_row_is_tall_enough(town: list[dict[str, Any]], tmp_path: Path) -> None:
    ledger = build_ledger("visits", town, today=TODAY)
    notes = ledger.headers.index("备注")
    ledger.rows[0][notes] = "住户反映楼道灯坏了，已报物业维修，下周回访确认" * 3
    path = tmp_path / "visits.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    cell = sheet.cell(row=3, column=notes + 2)
    width = sheet.column_dimensions[cell.column_letter].width
    assert cell.alignment.wrap_text and width <= load_definitions()["visits"].columns[notes].width + 2
    assert sheet.row_dimensions[3].height >= 15 * 4  # the note's lines, not one line cut off
    assert sheet.row_dimensions[2].height >= 15  # the header row


def test_dates_times_counts_and_coverage_are_typed_cells_with_formats(
    town: list[dict[str, Any]], tmp_path: Path
) -> None:
    for name in ("sampling", "visits", "isolation"):
        write_ledger(build_ledger(name, town, today=TODAY), tmp_path / f"{name}.xlsx")
    cells = {
        name: {
            header.value: cell
            for header, cell in zip(
                openpyxl.load_workbook(tmp_path / f"{name}.xlsx").active[2],
                openpyxl.load_workbook(tmp_path / f"{name}.xlsx").active[3],
                strict=True,
            )
        }
        for name in ("sampling", "visits", "isolation")
    }
    started = cells["sampling"]["开始时间"]
    assert isinstance(started.value, dt.datetime) and started.number_format == "yyyy-mm-dd hh:mm"
    coverage = cells["sampling"]["覆盖率"]
    assert isinstance(coverage.value, float) and 0 < coverage.value <= 1 and coverage.number_format == "0.0%"
    assert isinstance(cells["sampling"]["应检人数"].value, int) and cells["sampling"]["应检人数"].data_type == "n"
    visited = cells["visits"]["走访时间"]
    assert isinstance(visited.value, dt.datetime) and visited.number_format == "yyyy-mm-dd hh:mm"
    assert visited.value.hour == 10  # the latest visit first: 10:00 China time, as recorded (+08:00)
    for header in ("隔离开始日期", "预计解除日期", "最近随访"):
        cell = cells["isolation"][header]
        assert isinstance(cell.value, dt.datetime) and cell.number_format == "yyyy-mm-dd", header
    assert cells["isolation"]["年龄"].data_type == "n" and cells["isolation"]["随访次数"].data_type == "n"
    assert isinstance(cells["isolation"]["最近体温(℃)"].value, float)


def test_the_builder_keeps_typed_values_and_the_text_the_office_reads(town: list[dict[str, Any]]) -> None:
    rounds = build_ledger("sampling", town, today=TODAY)
    row = next(r for r in rounds.as_dicts() if r["round_name"] == "第2轮" and r["eligible"] == 5)  # grid G1
    assert isinstance(row["started_at"], dt.datetime) and row["started_at"].utcoffset() == dt.timedelta(hours=8)
    assert row["coverage"] == pytest.approx(2 / 5)  # 陈大明 sampled, 王芳 exempt; three not (yet)
    text = dict(zip(rounds.headers, rounds.text_rows()[rounds.rows.index(list(row.values()))], strict=True))
    assert text["覆盖率"] == "40.0%" and text["开始时间"] == f"{(TODAY - dt.timedelta(days=2)).isoformat()} 08:00"
    isolation = build_ledger("isolation", town, today=TODAY).as_dicts()[0]
    assert isolation["isolation_start"] == TODAY - dt.timedelta(days=5)
    assert isolation["isolation_end"] == TODAY + dt.timedelta(days=2)
    assert cell_text(isolation["isolation_end"]) == (TODAY + dt.timedelta(days=2)).isoformat()


def test_id_numbers_are_text_cells_even_unmasked(demo: list[dict[str, Any]], tmp_path: Path) -> None:
    ledger = build_ledger("residents", demo, today=TODAY, masked=False)
    path = tmp_path / "full.xlsx"
    write_ledger(ledger, path)
    sheet = openpyxl.load_workbook(path).active
    column = ledger.headers.index("公民身份号码") + 2
    cells = [sheet.cell(row=r, column=column) for r in range(3, len(ledger.rows) + 3)]
    assert cells and all(c.data_type == "s" and c.number_format == "@" and len(c.value) == 18 for c in cells)
    assert "保密" in sheet["A1"].value


def test_a_note_that_looks_like_a_formula_is_a_text_cell(demo: list[dict[str, Any]], tmp_path: Path) -> None:
    """openpyxl stores a string that starts with = as a formula: a worker's note never runs in the office's Excel."""
    ledger = build_ledger("residents", demo, today=TODAY, masked=False)
    notes = ledger.headers.index("备注")
    ledger.rows[0][notes] = '=HYPERLINK("http://evil.test","点我")'
    path = tmp_path / "notes.xlsx"
    write_ledger(ledger, path)
    cell = openpyxl.load_workbook(path).active.cell(row=3, column=notes + 2)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.test","点我")'


def test_csv_has_a_bom_a_title_line_the_headers_and_text_in_the_towns_format(
    town: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = build_ledger("isolation", town, today=TODAY)
    path = tmp_path / "isolation.csv"
    write_ledger(ledger, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert ledger.title in rows[0][0]
    assert rows[1] == ledger.headers  # no 序号: the CSV is for programs and spreadsheets, not for print
    assert [r[1] for r in rows[2:]] == [row[1] for row in ledger.rows]
    assert len(rows) == 2 + len(ledger.rows)
    wang = dict(zip(rows[1], rows[2], strict=True))
    assert wang["隔离开始日期"] == (TODAY - dt.timedelta(days=5)).isoformat() and wang["最近体温(℃)"] == "37.8"
    rounds = tmp_path / "sampling.csv"
    write_ledger(build_ledger("sampling", town, today=TODAY), rounds)
    lines = list(csv.DictReader(rounds.read_text("utf-8-sig").splitlines()[1:]))
    assert sorted(line["覆盖率"] for line in lines) == ["0.0%", "20.0%", "40.0%"]
    assert all(len(line["开始时间"]) == 16 for line in lines)  # YYYY-MM-DD HH:MM


def test_unmasked_csv_writes_long_numbers_so_a_spreadsheet_keeps_them_as_text(
    town: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = build_ledger("residents", town, today=TODAY, masked=False)
    path = tmp_path / "full.csv"
    write_ledger(ledger, path)
    rows = list(csv.DictReader(path.read_text("utf-8-sig").splitlines()[1:]))
    full = {r["id_number"]: r for r in ledger.as_dicts()}
    for row in rows:
        assert row["公民身份号码"].startswith('="') and unprotect(row["公民身份号码"]) in full
    phones = [r["联系电话"] for r in rows if r["联系电话"]]
    assert '="13812345678"' in phones
    assert all(unprotect(p) in {str(r["phone"]) for r in full.values()} for p in phones)
    ages = [r["年龄"] for r in rows]
    assert all(age.isdigit() for age in ages)  # short numbers stay plain numbers


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (ID_NUMBER, f'="{ID_NUMBER}"'),
        ("35018119830527395X", '="35018119830527395X"'),
        ("13812345678", '="13812345678"'),
        ("+8613812345678", '="+8613812345678"'),
        ("0101", '="0101"'),  # a leading zero a spreadsheet would drop
        ("501", "501"),  # the same number either way
        ("0591-87654321", "0591-87654321"),
        ("350181**********59", "350181**********59"),
        ("陈大明", "陈大明"),
        ("", ""),
        ("=1+1", '="=1+1"'),  # a note a spreadsheet would run as a formula (CSV injection)
        ('=HYPERLINK("http://evil.test","点我")', '="=HYPERLINK(""http://evil.test"",""点我"")"'),
        ("@SUM(1,1)", '="@SUM(1,1)"'),
        ("-2+3", '="-2+3"'),
        ("+1", '="+1"'),
    ],
)
def test_csv_text_protection_and_its_inverse(text: str, written: str) -> None:
    assert protect(text) == written
    assert unprotect(written) == text


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


def test_default_file_names_name_the_place_the_ledger_and_the_day(town: list[dict[str, Any]]) -> None:
    one_grid = [e for e in town if e["grid"] == G1]
    day = TODAY.isoformat()
    assert (
        default_file_name(build_ledger("residents", one_grid, today=TODAY))
        == f"东门社区第一网格-常住人口台账-{day}.xlsx"
    )
    assert default_file_name(build_ledger("visits", town, today=TODAY), ".csv") == f"城关镇-入户走访台账-{day}.csv"
    assert file_name_part('东门/社区:"第1网格"') == "东门_社区__第1网格"
    assert file_name_part("  Grid  7 . ") == "Grid_7"
    assert file_name_part("CON") == "_CON" and file_name_part("..") == ""
