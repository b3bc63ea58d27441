"""The words real rosters hold, through the words table (issue 16 item 3): chronic conditions, tags, disabilities
with their grade, 外来务工, two phones in a cell, footer lines; a town's own words file merged over the defaults."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.envelope import view
from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_words import load_words

from .conftest import PASSPHRASE
from .rosters import id_number


def roster(tmp_path: Path, header: str, *lines: str, name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("written", "groups", "tags", "notes"),
    [
        ("高血压", ["chronic"], [], None),
        ("糖尿病、冠心病", ["chronic"], [], None),
        ("慢阻肺;脑卒中", ["chronic"], [], None),
        ("独居老人", [], ["独居老人"], None),
        ("空巢老人 低保户", [], ["低保户", "空巢老人"], None),
        ("留守儿童", [], ["留守儿童"], None),
        ("残疾（肢体二级）", ["disabled"], [], "残疾：肢体二级"),
        ("肢体残疾二级", ["disabled"], [], "残疾：肢体二级"),
        ("二级肢体残疾", ["disabled"], [], "残疾：肢体二级"),
        ("残疾人(视力1级)、高血压", ["chronic", "disabled"], [], "残疾：视力一级"),
        ("听力残疾", ["disabled"], [], "残疾：听力"),
        ("残疾（精神 三级）", ["disabled"], [], "残疾：精神三级"),
        ("多重残疾四级", ["disabled"], [], "残疾：多重四级"),
        ("残疾", ["disabled"], [], None),
        ("80岁以上高龄、慢性病", ["chronic"], [], None),  # how the ledgers write them
        ("60岁以上老人、卧床/行动不便", ["bedridden"], [], None),
    ],
)
def test_real_world_words_become_groups_tags_and_a_note(
    tmp_path: Path, written: str, groups: list[str], tags: list[str], notes: str | None
) -> None:
    path = roster(tmp_path, "姓名,身份证号,住址,特殊人群", f'陈大明,{id_number(1940, 1)},3栋101室,"{written}"')
    parsed = parse_roster(path)
    assert parsed.errors == []
    (row,) = parsed.rows
    assert (row.special_groups, row.tags, row.resident.get("notes")) == (groups, tags, notes)


def test_a_note_keeps_the_rosters_remark_and_adds_the_grade(tmp_path: Path) -> None:
    path = roster(
        tmp_path, "姓名,身份证号,住址,特殊人群,备注", f"陈大明,{id_number(1940, 1)},3栋101室,残疾（肢体二级）,独子在外"
    )
    assert parse_roster(path).rows[0].resident["notes"] == "独子在外\n残疾：肢体二级"


def test_migrant_workers_are_floating_whichever_column_says_it(tmp_path: Path) -> None:
    path = roster(
        tmp_path,
        "姓名,身份证号,住址,人员类别,重点人群",
        f"王一,{id_number(1985, 1)},5栋101室,外来务工,",
        f"王二,{id_number(1986, 2)},5栋102室,,外来务工",
        f"王三,{id_number(1987, 3)},5栋103室,常住,外来务工",  # the residency column wins
    )
    rows = parse_roster(path).rows
    assert [row.resident["residency"] for row in rows] == ["floating", "floating", "resident"]


def test_an_unknown_word_is_reported_in_its_column_quoting_the_word(tmp_path: Path) -> None:
    path = roster(tmp_path, "姓名,身份证号,住址,特殊人群,标签", f"陈大明,{id_number(1940, 1)},3栋101室,高血压,爱跳舞")
    (error,) = parse_roster(path).errors
    assert (error.line, error.column, error.header, error.code) == (2, "E", "标签", "row.unknown_word")
    assert error.describe() == (
        "第2行 E列（标签）：不认识的词“爱跳舞”：请写 慢性病、残疾、卧床、孕产妇 或词表里的词（或把这个词加入词表）"
    )
    assert error.describe("en").startswith("line 2, column E (标签): unknown word '爱跳舞'")


@pytest.mark.parametrize(
    ("cell", "phone", "phone2"),
    [
        ("13812345678/13987654321", "13812345678", "13987654321"),
        ("13812345678、0591-87654321", "13812345678", "0591-87654321"),
        ("13812345678,13987654321", "13812345678", "13987654321"),
        ("13812345678；13987654321", "13812345678", "13987654321"),
        ("13812345678 13987654321", "13812345678", "13987654321"),
        ("138 1234 5678 139 8765 4321", "13812345678", "13987654321"),
        ("13812345678\n13987654321", "13812345678", "13987654321"),
        ("13812345678（本人）13987654321（儿子）", "13812345678", "13987654321"),
        ("138 1234 5678", "13812345678", None),
        ("13812345678/13812345678", "13812345678", None),
    ],
)
def test_one_or_two_phones_in_one_cell(tmp_path: Path, cell: str, phone: str, phone2: str | None) -> None:
    path = roster(tmp_path, "姓名,身份证号,住址,联系电话", f'陈大明,{id_number(1940, 1)},3栋101室,"{cell}"')
    parsed = parse_roster(path)
    assert parsed.errors == []
    assert (parsed.rows[0].resident.get("phone"), parsed.rows[0].resident.get("phone2")) == (phone, phone2)


def test_a_second_phone_column_and_a_bad_second_phone(tmp_path: Path) -> None:
    path = roster(
        tmp_path,
        "姓名,身份证号,住址,联系电话,备用电话",
        f"陈大明,{id_number(1940, 1)},3栋101室,13812345678,13987654321",
        f"陈小明,{id_number(1970, 2)},3栋101室,13812345678/1398765,",
    )
    parsed = parse_roster(path)
    assert parsed.rows[0].resident["phone2"] == "13987654321"
    (error,) = parsed.errors
    assert (error.line, error.column, error.code) == (3, "E", "domain.phone.mobile_digits")
    assert error.reason_text() == "手机号应为 11 位数字，现在是 7 位"


def test_footer_lines_are_skipped_and_counted_not_reported(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(["序号", "姓名", "身份证号", "住址", "特殊人群"])
    sheet.append([1, "陈大明", id_number(1940, 1), "3栋101室", "高血压"])
    sheet.append([2, None, None, None, None])  # a numbered row left empty
    sheet.append([3, "陈小明", id_number(1970, 2), "3栋101室", None])
    sheet.append(["小计", "2人"])
    sheet.append(["总计：2人"])
    sheet.append([None, "填表人：张三", None, "审核人：李四"])
    sheet.append(["负责人（签字）："])
    sheet.append(["日期： 2026年12月1日"])
    sheet.append([None, None, None, "2026年12月1日"])  # after the footer: no name, no ID number
    sheet.append(["备注:本表每月更新"])
    sheet.append(["注：身份证号为18位"])
    book.save(tmp_path / "footer.xlsx")
    parsed = parse_roster(tmp_path / "footer.xlsx")
    assert parsed.errors == []
    assert [row.resident["name"] for row in parsed.rows] == ["陈大明", "陈小明"]
    assert parsed.footer_lines == 8


def test_a_name_or_id_number_row_is_never_taken_for_a_footer(tmp_path: Path) -> None:
    path = roster(
        tmp_path,
        "姓名,身份证号,住址",
        "合计,,",
        f"陈大明,{id_number(1940, 1)},3栋101室",
        "陈小明,,3栋101室",  # after a footer line, but it names someone: reported
    )
    parsed = parse_roster(path)
    assert parsed.footer_lines == 1 and [row.line for row in parsed.rows] == [3]
    assert [(e.line, e.column, e.code) for e in parsed.errors] == [(4, "B", "domain.record.required")]


def test_a_towns_words_file_is_merged_over_the_defaults(tmp_path: Path) -> None:
    words = tmp_path / "words.json"
    words.write_text(
        json.dumps(
            {"groups": {"痛风": "chronic"}, "tags": {"爱跳舞": "文艺骨干"}, "footer": ["领导签字"]}, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    path = roster(
        tmp_path,
        "姓名,身份证号,住址,特殊人群",
        f"陈大明,{id_number(1940, 1)},3栋101室,痛风、爱跳舞、独居老人",
        "领导签字：,,",
    )
    without = parse_roster(path)
    assert [(e.line, e.code) for e in without.errors][:2] == [(2, "row.unknown_word"), (3, "domain.record.required")]
    parsed = parse_roster(path, words=load_words(words))
    assert parsed.errors == [] and parsed.footer_lines == 1
    assert (parsed.rows[0].special_groups, parsed.rows[0].tags) == (["chronic"], sorted(["独居老人", "文艺骨干"]))
    assert parse_roster(path, words=words).rows[0].tags == sorted(["独居老人", "文艺骨干"])


@pytest.mark.parametrize(
    ("content", "chinese", "english"),
    [
        ("{", "词表文件 w.json 不是有效的 JSON（第 1 行附近）", "the words file w.json is not valid JSON"),
        ('{"group": {}}', "有不认识的部分“group”", "unknown section 'group'"),
        ('{"groups": {"痛风": "gout"}}', "“痛风”的含义应是以下之一", "maps '痛风' to something that is none of"),
        ('{"tags": {"独居": "' + "长" * 21 + '"}}', "标签应是 1 到 20 个字", "must be 1 to 20 characters"),
        ('{"footer": "合计"}', "“footer”应是词的列表", "footer must be a list of words"),
    ],
)
def test_a_malformed_words_file_is_refused_clearly(tmp_path: Path, content: str, chinese: str, english: str) -> None:
    (tmp_path / "w.json").write_text(content, encoding="utf-8")
    with pytest.raises(RosterFileError) as caught:
        load_words(tmp_path / "w.json")
    assert chinese in caught.value.describe() and english in caught.value.describe("en")


def test_words_on_the_command_line(tmp_path: Path) -> None:
    from field_agent.store import Store

    store = tmp_path / "store"
    with Store.create(store, PASSPHRASE, grid="01900000-0000-7000-8000-00000000a001") as opened:
        opened.meta_set("role", "leader")
    words = tmp_path / "words.json"
    words.write_text('{"tags": {"爱跳舞": "文艺骨干"}}', encoding="utf-8")
    path = roster(tmp_path, "姓名,身份证号,住址,特殊人群", f"陈大明,{id_number(1940, 1)},3栋101室,爱跳舞")
    env = {"FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    refused = CliRunner().invoke(cli, ["--store", str(store), "import", str(path)], env=env)
    assert refused.exit_code == 1 and "不认识的词“爱跳舞”" in refused.stderr
    done = CliRunner().invoke(cli, ["--store", str(store), "import", str(path), "--words", str(words)], env=env)
    assert done.exit_code == 0, done.output
    with Store.open(store, PASSPHRASE) as opened:
        (resident,) = [view(e) for e in opened.records("resident")]
    assert resident["tags"] == ["文艺骨干"]
    words.write_text("[]", encoding="utf-8")
    bad = CliRunner().invoke(cli, ["--store", str(store), "import", str(path), "--words", str(words)], env=env)
    assert bad.exit_code == 1 and bad.stderr == "field-agent: 词表文件 words.json 应是一个 JSON 对象（{…}）\n"


def test_a_number_typed_into_a_word_column_is_never_quoted_whole(tmp_path: Path) -> None:
    """An ID number or a phone in the wrong column is an unknown word: the reason quotes it masked."""
    number = id_number(1970, 2)
    path = roster(
        tmp_path,
        "姓名,身份证号,住址,人员类别,特殊人群",
        f"陈大明,{id_number(1940, 1)},3栋101室,13812345678,{number}",
    )
    errors = parse_roster(path).errors
    assert [e.code for e in errors] == ["row.unknown_residency", "row.unknown_word"]
    for language in ("zh_CN", "en"):
        text = "\n".join(e.describe(language) for e in errors)
        assert number not in text and "13812345678" not in text and number[6:14] not in text
