"""Roster files as town offices send them, written for the import tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl

from field_agent.domain.idnumber import make_id_number

HEADER = ["序号", "姓名", "公民身份号码", "联系电话", "楼栋", "单元", "房号", "人员类别", "户主", "特殊人群", "民族"]


def id_number(year: int, sequence: int, sex: str = "male") -> str:
    return make_id_number("350181", dt.date(year, 6, 1), sequence, sex)


GOOD_ROWS = [
    ["1", "陈大明", id_number(1940, 1), "138 1234 5678", "3栋", "2", "501室", "常住", "陈大明", "慢性病", "汉"],
    ["2", "陈小红", id_number(1992, 2, "female"), "", "3栋", "2", "501室", "常住", "陈大明", "孕妇", "汉"],
    ["3", "王芳", id_number(1960, 3, "female"), "0591-87654321", "12", "1", "101", "流动人口", "王芳", "", "畲"],
    ["4", "李强", id_number(1985, 4), "13912345678", "12", "1", "101", "流动", "王芳", "", "汉"],
    ["5", "赵一", id_number(1950, 5), "", "7号楼", "1单元", "301", "外出", "赵一", "残疾、卧床", "汉"],
]


def bad_rows() -> list[list[str]]:
    """GOOD_ROWS with four rows broken in known ways (lines 4, 5, 6 and 8 once a title row is added)."""
    wrong_check = id_number(1970, 6)
    wrong_check = wrong_check[:-1] + ("1" if wrong_check[-1] != "1" else "2")
    return [
        GOOD_ROWS[0],
        ["2", "钱二", wrong_check, "", "3", "1", "101", "常住", "", "", ""],  # line 4: check digit
        ["3", "孙三", id_number(1971, 7), "12345", "3", "1", "102", "常住", "", "", ""],  # line 5: phone
        ["4", "", id_number(1972, 8), "", "3", "1", "103", "游客", "", "", ""],  # line 6: name, 人员类别
        GOOD_ROWS[2],
        ["6", "周六", GOOD_ROWS[0][2], "", "3", "1", "104", "常住", "", "", ""],  # line 8: same ID as line 3
    ]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig", title: bool = True) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if title:
        writer.writerow(["东门社区第一网格常住人口花名册"])
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["东门社区第一网格常住人口花名册"])
    sheet.merge_cells("A1:K1")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_two_level_xlsx(path: Path) -> Path:
    """A header in two rows: 住址 merged over 楼栋/单元/房号, the other headers merged down; a family's address
    and head merged down over its members."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["东门社区花名册"])
    sheet.merge_cells("A1:G1")
    sheet.append(["姓名", "身份证号", "住址", None, None, "户主", "手机号"])
    sheet.append([None, None, "楼栋", "单元", "房号", None, None])
    for column in "ABFG":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("C2:E2")
    sheet.append(["陈大明", GOOD_ROWS[0][2], "3", "2", "501", "陈大明", "13812345678"])
    sheet.append(["陈小红", GOOD_ROWS[1][2], None, None, None, None, None])
    for column in "CDEF":
        sheet.merge_cells(f"{column}4:{column}5")
    sheet.append(["王芳", GOOD_ROWS[2][2], "12", "1", "101", "王芳", None])
    book.save(path)
    return path
