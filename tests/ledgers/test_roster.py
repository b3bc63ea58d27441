"""Reading rosters: header mapping, every bad row reported with line/column/reason, encodings, merged cells."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_headers import household_key

from .rosters import GOOD_ROWS, HEADER, bad_rows, id_number, write_csv, write_two_level_xlsx, write_xlsx


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_a_good_roster_gives_every_row(writer, tmp_path: Path) -> None:
    parsed = parse_roster(writer(tmp_path / f"good.{'csv' if writer is write_csv else 'xlsx'}", GOOD_ROWS))
    assert parsed.errors == []
    assert [r.line for r in parsed.rows] == [3, 4, 5, 6, 7]
    assert parsed.header_line == 2
    assert parsed.columns["id_number"] == "公民身份号码" and parsed.columns["head_name"] == "户主"
    assert set(parsed.ignored_headers) == {"序号", "民族"}
    chen, hong, wang, li, zhao = parsed.rows
    assert chen.resident == {
        "name": "陈大明",
        "id_number": GOOD_ROWS[0][2],
        "phone": "13812345678",
        "residency": "resident",
        "special_groups": ["chronic"],
    }
    assert chen.household == {"building": "3", "unit": "2", "room": "501", "address": "3栋2单元501室"}
    assert chen.head_name == "陈大明" and hong.household_key == chen.household_key
    assert wang.resident["phone"] == "0591-87654321" and wang.resident["residency"] == "floating"
    assert li.household_key == wang.household_key
    assert zhao.resident["residency"] == "away" and zhao.resident["special_groups"] == ["bedridden", "disabled"]
    assert zhao.household["building"] == "7" and zhao.household["unit"] == "1"


def test_every_bad_row_is_reported_with_line_column_and_reason(tmp_path: Path) -> None:
    parsed = parse_roster(write_csv(tmp_path / "bad.csv", bad_rows()))
    found = {(e.line, e.column, e.header): e.reason for e in parsed.errors}
    assert "check digit" in found[(4, "C", "公民身份号码")]
    assert "11 digits" in found[(5, "D", "联系电话")]
    assert "required" in found[(6, "B", "姓名")]
    assert "游客" in found[(6, "H", "人员类别")]
    assert found[(8, "C", "公民身份号码")] == "same ID number as line 3"
    assert len(found) == 5
    assert [r.line for r in parsed.rows] == [3, 7]
    assert str(parsed.errors[0]).startswith("line 4, column C (公民身份号码): ")


def test_a_gbk_csv_is_read(tmp_path: Path) -> None:
    parsed = parse_roster(write_csv(tmp_path / "gbk.csv", GOOD_ROWS, encoding="gbk"))
    assert parsed.encoding == "gbk" and parsed.errors == []
    assert [r.resident["name"] for r in parsed.rows] == [row[1] for row in GOOD_ROWS]


def test_text_in_no_known_encoding_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes("姓名,身份证号\n".encode() + b"\x80\xff\xfe\x81\n")
    with pytest.raises(RosterFileError, match="neither UTF-8 nor GBK"):
        parse_roster(path)


def test_a_two_level_header_under_merged_cells_is_read(tmp_path: Path) -> None:
    parsed = parse_roster(write_two_level_xlsx(tmp_path / "merged.xlsx"))
    assert parsed.errors == [] and parsed.header_line == 3
    assert parsed.columns == {
        "name": "姓名",
        "id_number": "身份证号",
        "building": "楼栋",
        "unit": "单元",
        "room": "房号",
        "head_name": "户主",
        "phone": "手机号",
    }
    chen, hong, wang = parsed.rows
    assert (chen.line, hong.line, wang.line) == (4, 5, 6)
    assert hong.household == chen.household and hong.head_name == "陈大明"  # merged down over the family
    assert wang.household["building"] == "12"


def test_a_header_merged_across_columns_without_sub_headers_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "住址", None, None])
    sheet.merge_cells("C1:E1")
    sheet.append(["陈大明", GOOD_ROWS[0][2], "3", "2", "501"])
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(RosterFileError, match=r"merged cell over C1:E1; unmerge it"):
        parse_roster(tmp_path / "wide.xlsx")


@pytest.mark.parametrize("stored", ["rounded", "exact"])
def test_an_id_number_from_a_numeric_cell_is_never_trusted(tmp_path: Path, stored: str) -> None:
    """Even a number that passes the check digit (a rounded ID number does 1 time in 11, as another person's) or an
    exact integer a script wrote: the row is refused with how to fix the file, and nothing of it is imported."""
    valid = id_number(1980, 9)
    assert valid[-1] != "X"
    value = int(valid) if stored == "exact" else float(valid)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER[1:4], "住址"])
    sheet.append(["陈大明", value, "", "3栋2单元501室"])
    sheet.append(["陈小明", valid, "", "3栋2单元502室"])
    book.save(tmp_path / "numeric.xlsx")
    parsed = parse_roster(tmp_path / "numeric.xlsx")
    assert [row.resident["name"] for row in parsed.rows] == ["陈小明"]
    (error,) = parsed.errors
    assert (error.line, error.column) == (2, "B")
    assert "stored as a number" in error.reason and "format the column as text" in error.reason
    assert valid not in str(error) and valid[:15] not in str(error)


def test_an_id_number_excel_stored_as_a_number_gets_a_hint(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER[1:4], "住址"])
    sheet.append(["陈大明", int(id_number(1980, 9)[:17] + "0") * 1.0, "", "3栋2单元501室"])
    book.save(tmp_path / "numeric.xlsx")
    parsed = parse_roster(tmp_path / "numeric.xlsx")
    assert len(parsed.errors) == 1 and "format the column as text" in parsed.errors[0].reason


def test_a_full_address_is_split_into_building_unit_and_room(tmp_path: Path) -> None:
    path = tmp_path / "address.csv"
    path.write_text(f"姓名,身份证号,家庭住址\n陈大明,{GOOD_ROWS[0][2]},东门小区3号楼2单元501室\n", encoding="utf-8")
    (row,) = parse_roster(path).rows
    assert row.household == {"address": "东门小区3号楼2单元501室", "building": "3", "unit": "2", "room": "501"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "old or foreign spreadsheet format"),
        ("roster.pdf", b"%PDF", "must be an .xlsx or .csv"),
        ("broken.xlsx", b"not a zip", "not a readable .xlsx"),
        ("noheader.csv", "甲,乙,丙\n1,2,3\n".encode(), "no header row with 姓名 and 身份证号"),
        ("noaddress.csv", "姓名,身份证号,电话\n".encode(), "no address columns"),
    ],
)
def test_files_that_are_not_rosters_are_refused_clearly(
    name: str, content: bytes, message: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(RosterFileError, match=message):
        parse_roster(tmp_path / name)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RosterFileError, match="no such file"):
        parse_roster(tmp_path / "nowhere.csv")


def test_an_xlsx_with_xml_entities_is_refused_not_expanded(tmp_path: Path) -> None:
    import zipfile

    good = write_xlsx(tmp_path / "good.xlsx", GOOD_ROWS)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet', 1
                )
            target.writestr(item, data)
    with pytest.raises(RosterFileError, match=r"not a readable \.xlsx"):
        parse_roster(bomb)


@pytest.mark.parametrize(
    ("header", "chen", "hong"),
    [("户主", "是", "否"), ("是否户主", "是", ""), ("与户主关系", "本人", "女儿"), ("户主姓名", "陈大明", "陈大明")],
)
def test_the_household_head_is_read_from_any_usual_column(header: str, chen: str, hong: str, tmp_path: Path) -> None:
    path = tmp_path / "head.csv"
    path.write_text(
        f"姓名,身份证号,楼栋,房号,{header}\n陈大明,{GOOD_ROWS[0][2]},3,501,{chen}\n陈小红,{GOOD_ROWS[1][2]},3,501,{hong}\n",
        encoding="utf-8",
    )
    rows = parse_roster(path).rows
    assert rows[0].head_name == "陈大明"
    assert rows[1].head_name == ("陈大明" if header == "户主姓名" else None)


def test_full_width_digits_letters_and_spaces_are_their_plain_forms(tmp_path: Path) -> None:
    """３５０１… and ８栋２单元６０２室 typed with a Chinese input method, an ideographic space after the name: the same
    resident and household as the plain forms."""
    valid = id_number(1975, 3)
    wide = valid.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    path = tmp_path / "wide.csv"
    path.write_text(f"姓名,身份证号,楼栋,单元,房号\n陈大明\u3000,{wide},８栋,２单元,６０２室\n", encoding="utf-8")
    (row,) = parse_roster(path).rows
    assert row.resident["id_number"] == valid and row.resident["name"] == "陈大明"
    assert row.household_key == household_key({"address": "8栋2单元602室", "building": "8", "unit": "2", "room": "602"})
    assert household_key({"building": "８号楼", "unit": "２", "room": "６０２"}) == row.household_key


def test_sex_and_birth_date_columns_are_checked_against_the_id_number(tmp_path: Path) -> None:
    """A roster's 性别 and 出生日期 say what the ID number already says; a row where they disagree is reported (one of
    them was typed wrong), in any of the ways rosters write a date, and neither value is quoted."""
    men = [id_number(1980, n, "male") for n in range(1, 6)]  # all born 1980-06-01
    path = tmp_path / "checked.csv"
    lines = [
        "姓名,身份证号,性别,出生日期,住址",
        f"陈一,{men[0]},男,1980-06-01,3栋101室",
        f"陈二,{men[1]},男性,1980年6月,3栋102室",
        f"陈三,{men[2]},女,19800601,3栋103室",
        f"陈四,{men[3]},男,1979-06-01,3栋104室",
        f"陈五,{men[4]},男,不详,3栋105室",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_roster(path)
    reasons = {(e.line, e.column): e.reason for e in parsed.errors}
    assert reasons == {
        (4, "C"): "性别 does not match the sex the ID number gives",
        (5, "D"): "出生日期 does not match the ID number's",
        (6, "D"): "出生日期 is not a date (write 1980-09-01)",
    }
    assert [row.resident["name"] for row in parsed.rows] == ["陈一", "陈二"]
    assert "sex" not in parsed.rows[0].resident and "birth_date" not in parsed.rows[0].resident


def test_every_sheet_with_a_roster_header_is_read_and_named(tmp_path: Path) -> None:
    """Sheets without a header and hidden sheets are listed as skipped; every row error names its sheet; an ID
    number on two sheets is reported on the second."""
    book = openpyxl.Workbook()
    first = book.active
    first.title = "一组"
    first.append(HEADER)
    first.append(GOOD_ROWS[0])
    second = book.create_sheet("二组")
    second.append(["姓名", "身份证号", "住址"])
    second.append(["王芳", GOOD_ROWS[2][2], "12栋1单元101室"])
    second.append(["陈大明", GOOD_ROWS[0][2], "3栋2单元501室"])
    book.create_sheet("统计").append(["合计", 3])
    hidden = book.create_sheet("旧名单")
    hidden.append(["姓名", "身份证号", "住址"])
    hidden.append(["李强", GOOD_ROWS[3][2], "12栋1单元101室"])
    hidden.sheet_state = "hidden"
    book.save(tmp_path / "sheets.xlsx")

    parsed = parse_roster(tmp_path / "sheets.xlsx")
    assert [(row.sheet, row.line, row.resident["name"]) for row in parsed.rows] == [
        ("一组", 2, "陈大明"),
        ("二组", 2, "王芳"),
    ]
    (error,) = parsed.errors
    assert (error.sheet, error.line, error.column, error.code) == ("二组", 3, "B", "row.same_id_sheet")
    assert error.describe() == "工作表「二组」 第3行 B列（身份证号）：与工作表「一组」第 2 行的身份证号相同"
    assert [(s.name, s.reason) for s in parsed.skipped_sheets] == [("统计", "no_header"), ("旧名单", "hidden")]
    assert [(s.name, s.header_line, s.rows, s.bad_rows) for s in parsed.sheets] == [
        ("一组", 1, 1, 0),
        ("二组", 1, 1, 1),
    ]

    only = parse_roster(tmp_path / "sheets.xlsx", sheet="旧名单")
    assert [row.resident["name"] for row in only.rows] == ["李强"] and only.skipped_sheets == []
    with pytest.raises(RosterFileError) as unknown:
        parse_roster(tmp_path / "sheets.xlsx", sheet="三组")
    assert unknown.value.describe() == "sheets.xlsx 里没有名为「三组」的工作表；工作表有：一组、二组、统计、旧名单"


def test_a_workbook_without_any_roster_sheet_lists_its_sheets(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.create_sheet("统计").append(["合计", 3])
    book.save(tmp_path / "none.xlsx")
    with pytest.raises(RosterFileError) as caught:
        parse_roster(tmp_path / "none.xlsx")
    assert caught.value.describe().startswith(
        "none.xlsx 的工作表（说明、统计）前 10 行里都没有含“姓名”和“身份证号”的表头行"
    )
    assert str(caught.value).startswith("no sheet of none.xlsx (说明, 统计) has a header row with 姓名 and 身份证号")


def test_a_csv_has_no_sheet_to_choose(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", GOOD_ROWS)
    assert {row.sheet for row in parse_roster(path).rows} == {""}
    with pytest.raises(RosterFileError, match="is a CSV file"):
        parse_roster(path, sheet="一组")


def test_csv_cells_written_as_text_formulas_are_their_text(tmp_path: Path) -> None:
    """A CSV that keeps ID numbers as text in a spreadsheet writes them ``="350181…"``."""
    path = tmp_path / "formula.csv"
    path.write_text(f'姓名,身份证号,联系电话,住址\n陈大明,="{GOOD_ROWS[0][2]}",="13812345678",3栋101室\n', "utf-8")
    (row,) = parse_roster(path).rows
    assert (row.resident["id_number"], row.resident["phone"]) == (GOOD_ROWS[0][2], "13812345678")


def test_the_sheets_title_gives_the_residency_of_rows_without_one(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["东门社区流动人口登记表"])
    sheet.append(["姓名", "身份证号", "住址"])
    sheet.append(["王芳", GOOD_ROWS[2][2], "12栋1单元101室"])
    book.save(tmp_path / "floating.xlsx")
    (row,) = parse_roster(tmp_path / "floating.xlsx").rows
    assert row.resident["residency"] == "floating" and row.assumed == ("residency",)


def test_file_errors_are_said_in_chinese_by_default(tmp_path: Path) -> None:
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(RosterFileError) as caught:
        parse_roster(tmp_path / "old.xls")
    assert caught.value.describe() == "old.xls 是旧版或其他软件的表格格式；请在 Excel 中另存为 .xlsx 或“CSV UTF-8”"
    assert caught.value.describe("en") == str(caught.value)
    assert caught.value.key == "file.old_format"
