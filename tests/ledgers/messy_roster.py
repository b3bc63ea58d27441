"""A roster as a community office really sends it (issue 16): two merged title rows, a header in two rows under
merged cells, an ID number stored as a number, full-width text, 高血压/独居老人/残疾（肢体二级）/外来务工, two phones in
one cell, 合计 and 制表人 footer rows; a second sheet with more residents and its own footer; a third sheet of notes
with no roster. ``ERRORS_*`` and ``INFO_*`` are the report it must give, line by line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from field_agent.domain.idnumber import make_id_number


def person(year: int, sequence: int, sex: str = "male") -> str:
    return make_id_number("350181", dt.date(year, 3, 15), sequence, sex)


def wide(text: str) -> str:
    """Full-width digits and letters, as a Chinese input method types them."""
    return text.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


CHEN = person(1948, 1)  # 陈大明: 高血压、独居老人, two phones
LIN = person(1956, 2, "female")  # 林秀英: full-width ID and address, 残疾（肢体二级）
WANG = person(1985, 3)  # 王建国: 外来务工 (residency), 糖尿病 冠心病
ZHAO = person(1970, 4)  # 赵一: ID stored as a number
QIAN = person(1972, 5)  # 钱二: a mistyped ID number (check digit)
SUN = person(1975, 6)  # 孙三: three phones in one cell
ZHOU = person(1980, 7, "female")  # 周四: an unknown word in 特殊人群
LI = person(1950, 8, "female")  # 李梅 (二组): 空巢老人、慢阻肺
HE = person(1944, 9)  # 何文 (二组): 脑卒中/残疾（视力一级）, 低保户
XU = person(2015, 10, "female")  # 许朵朵 (二组): 留守儿童
QIAN_MISTYPED = QIAN[:-1] + ("1" if QIAN[-1] != "1" else "2")


def write_messy_roster(path: Path) -> Path:
    book = openpyxl.Workbook()
    one = book.active
    one.title = "一组"
    one.append(["东门社区第一网格居民花名册"])
    one.merge_cells("A1:K1")
    one.append(["填报单位：东门社区居委会（盖章）　　　　　填报日期：2026年12月1日"])
    one.merge_cells("A2:K2")
    one.append(["序号", "姓名", "公民身份号码", "联系电话", "住址", None, None, "人员类别", "特殊人群", "户主", "备注"])
    one.append([None, None, None, None, "楼栋", "单元", "房号", None, None, None, None])
    for column in "ABCDHIJK":
        one.merge_cells(f"{column}3:{column}4")
    one.merge_cells("E3:G3")
    rows = [
        [1, "陈大明", CHEN, "138 1234 5678/13912345678", "3栋", "2", "501室", "常住", "高血压、独居老人", "陈大明", ""],
        [
            2,
            "林秀英\u3000",
            wide(LIN),
            "",
            "３栋",
            "２",
            "５０２室",
            "户籍",
            "残疾（肢体二级）",
            "林秀英",
            "女儿在外地",
        ],
        [3, "王建国", WANG, "0591-87654321", "5", "1", "101", "外来务工", "糖尿病 冠心病", "王建国", ""],
        [4, "赵一", float(ZHAO), "13700001111", "5", "1", "102", "常住", "", "赵一", ""],
        [5, "钱二", QIAN_MISTYPED, "", "5", "1", "103", "常住", "", "钱二", ""],
        [6, "孙三", SUN, "13812345678、13900001111、13700002222", "5", "2", "201", "常住", "", "孙三", ""],
        [7, "周四", ZHOU, "", "5", "2", "202", "常住", "爱跳舞", "周四", ""],
    ]
    for row in rows:
        one.append(row)
    one.append(["合计", "共7人", None, None, None, None, None, None, None, None, None])  # line 12
    one.append(["制表人：张三　　　审核人：李四　　　日期：2026-12-01"])  # line 13
    one.merge_cells("A13:K13")

    two = book.create_sheet("二组")
    two.append(["姓名", "身份证号", "手机号", "家庭住址", "人员类别", "特殊人群"])
    two.append(["李梅", LI, "13600001111", "东门小区7号楼1单元301室", "常住", "空巢老人、慢阻肺"])
    two.append(
        ["何文", HE, "13600002222\n0591-85551234", "东门小区7号楼1单元302室", "", "脑卒中/残疾（视力一级）、低保户"]
    )
    two.append(["许朵朵", XU, "", "东门小区7号楼1单元302室", "常住", "留守儿童"])
    two.append(["陈大明", CHEN, "", "东门小区3栋2单元501室", "常住", ""])  # line 5: 一组 line 5 again
    two.append([])
    two.append(["填表人：王五"])  # line 7
    two.append(["备注：本表由二组网格员提供"])  # line 8

    notes = book.create_sheet("说明")
    notes.append(["填表说明"])
    notes.append(["1. 身份证号一列请设为文本格式。"])
    notes.append(["2. 特殊人群写 慢性病、残疾、卧床、孕产妇。"])
    book.save(path)
    return path


ERRORS_ZH = [
    "工作表「一组」 第8行 C列（公民身份号码）：身份证号存成了数字，只保留了 15 位有效数字，即使看起来有效也不可信："
    "请把这一列设为“文本”格式后重新输入，或从原始资料复制",
    "工作表「一组」 第9行 C列（公民身份号码）：身份证号的校验码（末位）与前 17 位不符：有一位输错了",
    "工作表「一组」 第10行 D列（联系电话）：一格里有 3 个电话号码，最多只能两个",
    "工作表「一组」 第11行 I列（特殊人群）：不认识的词“爱跳舞”：请写 慢性病、残疾、卧床、孕产妇 或词表里的词"
    "（或把这个词加入词表）",
    "工作表「二组」 第5行 B列（身份证号）：与工作表「一组」第 5 行的身份证号相同",
]
INFO_ZH = [
    "读取的工作表：「一组」3 行、「二组」3 行",
    "跳过的工作表：「说明」（没有花名册表头）",
    "未导入的列：序号",
]
ERRORS_EN = [
    "sheet 一组, line 8, column C (公民身份号码): the ID number is stored as a number, which keeps only 15 digits, "
    "so it cannot be trusted even when it looks valid: format the column as text and type the number again, or copy "
    "it from the original source",
    "sheet 一组, line 9, column C (公民身份号码): ID number's check digit (the last character) does not match the "
    "first 17: a character is mistyped",
    "sheet 一组, line 10, column D (联系电话): 3 phone numbers in one cell; at most two are kept",
    "sheet 一组, line 11, column I (特殊人群): unknown word '爱跳舞'; use 慢性病, 残疾, 卧床, 孕产妇 or a word of the "
    "words table (or add it there)",
    "sheet 二组, line 5, column B (身份证号): same ID number as sheet 一组, line 5",
]
INFO_EN = [
    "sheets read: 一组 (3 rows), 二组 (3 rows)",
    "sheets skipped: 说明 (no roster header)",
    "columns not imported: 序号",
]
# what --json says of each problem: sheet, line, column, header, code
EXPECTED_PLACES = [
    ("一组", 8, "C", "公民身份号码", "row.numeric_id"),
    ("一组", 9, "C", "公民身份号码", "domain.id.check_digit"),
    ("一组", 10, "D", "联系电话", "row.too_many_phones"),
    ("一组", 11, "I", "特殊人群", "row.unknown_word"),
    ("二组", 5, "B", "身份证号", "row.same_id_sheet"),
]
