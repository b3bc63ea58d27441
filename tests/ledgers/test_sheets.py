"""Reading .xlsx rosters through openpyxl's streaming (read-only) reader: the same sheets as openpyxl's normal mode
gives (rows, merged blocks, numeric cells, names, hidden), in a fraction of the memory, whatever dimension the file
declares; a damaged file is a RosterFileError."""

from __future__ import annotations

import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.sheets import Merge, Sheet, _text, _trim, read_sheets

from .messy_roster import CHEN, write_messy_roster


def normal_mode_sheets(path: Path) -> list[Sheet]:
    """The sheets as openpyxl's normal mode sees them (what read_sheets did before it streamed)."""
    book = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for sheet in book.worksheets:
        rows, numeric = [], set()
        for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append([_text(v) for v in row])
            numeric |= {(r, c) for c, v in enumerate(row, 1) if isinstance(v, int | float) and not isinstance(v, bool)}
        merges = [Merge(m.min_row, m.min_col, m.max_row, m.max_col) for m in sheet.merged_cells.ranges]
        sheets.append(Sheet(_trim(rows), merges, numeric, name=sheet.title, hidden=sheet.sheet_state != "visible"))
    book.close()
    return sheets


def comparable(sheets: list[Sheet]) -> list[tuple[object, ...]]:
    key = lambda m: (m.min_row, m.min_col)  # noqa: E731
    return [(s.name, s.hidden, s.rows, sorted(s.merges, key=key), s.numeric_cells) for s in sheets]


def rewrite_part(path: Path, part: str, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one part of an .xlsx package through ``change(bytes) -> bytes``."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data) if info.filename == part else data)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """The messy roster (merged titles, a two-row header under merged cells, an ID typed as a number, footers, a
    sheet of notes) with a hidden sheet added."""
    path = write_messy_roster(tmp_path / "社区花名册.xlsx")
    book = openpyxl.load_workbook(path)
    old = book.create_sheet("旧名单")
    old.append(["姓名", "身份证号", "住址"])
    old.append(["李强", CHEN, "12栋1单元101室"])
    old.merge_cells("C2:C3")
    old.sheet_state = "hidden"
    book.save(path)
    return path


def test_streamed_sheets_are_normal_modes(messy: Path) -> None:
    sheets = read_sheets(messy)
    assert comparable(sheets) == comparable(normal_mode_sheets(messy))
    one = sheets[0]
    assert Merge(3, 5, 3, 7) in one.merges and Merge(1, 1, 1, 11) in one.merges  # 住址 over 楼栋/单元/房号; the title
    assert (8, 3) in one.numeric_cells and one.cell(8, 3).isdigit()  # 赵一's ID number typed as a number
    assert [(s.name, s.hidden) for s in sheets][-1] == ("旧名单", True)


def test_contents_under_a_merge_are_dropped_as_normal_mode_does(tmp_path: Path) -> None:
    """LibreOffice can keep what merged-over cells held: only the block's top-left cell counts."""
    path = tmp_path / "kept.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["花名册", 7, "旧标题"])
    book.active.append(["姓名", "身份证号", "住址"])
    book.save(path)
    merge = b'<mergeCells count="1"><mergeCell ref="A1:C1"/></mergeCells>'
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda data: data.replace(b"</sheetData>", b"</sheetData>" + merge))
    sheet = read_sheets(path)[0]
    assert comparable([sheet]) == comparable(normal_mode_sheets(path))
    assert sheet.rows[0] == ["花名册"] and sheet.numeric_cells == set() and sheet.merges == [Merge(1, 1, 1, 3)]


def test_a_wrong_declared_dimension_loses_no_row(tmp_path: Path) -> None:
    """Some writers declare <dimension ref="A1"/> whatever the sheet holds; read-only mode trusts it unless told
    not to, and would read one cell."""
    path = tmp_path / "dimension.xlsx"
    book = openpyxl.Workbook()
    for n in range(1, 31):
        book.active.append(["姓名", f"居民{n}", None, "3栋", n])
    book.save(path)
    rewrite_part(
        path, "xl/worksheets/sheet1.xml", lambda data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
    )
    sheet = read_sheets(path)[0]
    assert len(sheet.rows) == 30 and sheet.rows[29] == ["姓名", "居民30", "", "3栋", "30"]
    assert (30, 5) in sheet.numeric_cells


def test_a_prefixed_worksheet_and_gaps_between_rows(tmp_path: Path) -> None:
    """Rows the file leaves out are empty rows (line numbers stay the spreadsheet's); a worksheet part written with
    a namespace prefix (x:sheetData, x:mergeCell) is read the same."""
    path = tmp_path / "prefixed.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "标题"
    book.active["B4"] = "姓名"
    book.active.merge_cells("A1:D1")
    book.save(path)

    def prefixed(data: bytes) -> bytes:
        data = re.sub(rb"<(/?)(\w+)", rb"<\1x:\2", data)
        return data.replace(b'xmlns="', b'xmlns:x="', 1)

    rewrite_part(path, "xl/worksheets/sheet1.xml", prefixed)
    sheet = read_sheets(path)[0]
    assert sheet.rows == [["标题"], [], [], ["", "姓名"]] and sheet.merges == [Merge(1, 1, 1, 4)]


def test_parsing_holds_no_cell_objects(tmp_path: Path) -> None:
    """openpyxl's normal mode builds a Cell object per cell, ~7 KB a roster row: a 100,000-resident roster then
    needs ~700 MB before anything is imported. Streamed, a row costs its text."""
    path = tmp_path / "big.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(["序号", "姓名", "性别", "公民身份号码", "联系电话", "楼栋", "单元", "房号", "人员类别", "备注"])
    for n in range(1, 2001):
        sheet.append([n, f"居民{n}", "男", f"35018119480315{n:04d}", "13812345678", "3", "2", "501", "常住", "独居"])
    book.save(path)
    tracemalloc.start()
    try:
        sheets = read_sheets(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sheets[0].rows) == 2001
    assert peak / 2000 < 2500, f"{peak / 2000:.0f} bytes a row"


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("truncated", lambda data: data[: len(data) // 2]),
        ("not a zip", lambda data: b"PK\x03\x04 not really a zip file"),
    ],
)
def test_a_damaged_file_is_a_roster_file_error(tmp_path: Path, name: str, damage) -> None:  # type: ignore[no-untyped-def]
    path = write_messy_roster(tmp_path / "roster.xlsx")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(RosterFileError) as caught:
        read_sheets(path)
    assert caught.value.key == "file.bad_xlsx"


def test_a_worksheet_that_is_not_xml_is_a_roster_file_error(tmp_path: Path) -> None:
    path = write_messy_roster(tmp_path / "roster.xlsx")
    rewrite_part(path, "xl/worksheets/sheet2.xml", lambda data: data[: len(data) // 2])
    with pytest.raises(RosterFileError) as caught:
        read_sheets(path)
    assert caught.value.key == "file.bad_xlsx"
