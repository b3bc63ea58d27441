"""The town office's campaign sheet: what a clerk fills in Excel (or writes as JSON) reads as the campaign they
meant, and every mistake is reported at its cell, in Chinese (or English), without quoting what the cell holds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_agent.domain.campaigns.definition import parse_campaign
from field_agent.domain.campaigns.templates import TEMPLATES, from_template, template_data
from field_agent.ledgers.campaign_sheet import read_campaign_file
from field_agent.ledgers.campaign_sheet_template import write_campaign_template
from field_agent.ledgers.errors import CampaignSheetError

STARTS = dt.date(2026, 12, 6)
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "campaign-typhoon.xlsx"


def filled(tmp_path: Path, template: str | None = "typhoon", name: str = "sheet.xlsx") -> Path:
    path = tmp_path / name
    write_campaign_template(path, template, key="typhoon-2026-12", name="防台风转移（12月）", starts=STARTS)
    return path


def edit(path: Path, changes: dict[str, Any]) -> Path:
    """Set cells (``"表单!C4": "滑块"``) as a clerk would in Excel."""
    book = openpyxl.load_workbook(path)
    for where, value in changes.items():
        sheet, cell = where.split("!")
        book[sheet][cell] = value
    book.save(path)
    return path


def problems(path: Path, language: str | None = None) -> dict[str, str]:
    with pytest.raises(CampaignSheetError) as caught:
        read_campaign_file(path)
    return dict(caught.value.cells(language))


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_each_shipped_template_written_as_a_sheet_reads_back_as_that_template(tmp_path: Path, template: str) -> None:
    path = filled(tmp_path, template)
    data = read_campaign_file(path)
    assert parse_campaign(data) == from_template(template, "typhoon-2026-12", "防台风转移（12月）", STARTS)


def test_the_shipped_example_is_the_typhoon_template_filled_in() -> None:
    campaign = parse_campaign(read_campaign_file(EXAMPLE))
    assert campaign.template == "typhoon" and campaign.starts <= (campaign.ends or campaign.starts)
    assert campaign.form == from_template("typhoon", "x", "x", STARTS).form


def test_a_sheet_naming_a_template_by_its_chinese_name_takes_what_it_leaves_empty(tmp_path: Path) -> None:
    """Only the 活动 sheet, with 模板 防台风转移 and dates written as text: the rest is the template's."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "活动"
    for row in (
        ("项目", "内容"),
        ("代码", "typhoon-1"),
        ("名称", "台风“杜苏芮”转移"),
        ("模板", "防台风转移"),
        ("开始日期", "2026/12/6"),
        ("结束日期", "2026年12月9日"),
        ("网格", "G01、东门社区第二网格"),
        ("楼栋", "3号楼,5号楼"),
    ):
        sheet.append(row)
    path = tmp_path / "short.xlsx"
    book.save(path)
    data = read_campaign_file(path)
    base = template_data("typhoon")
    assert data["form"] == base["form"] and data["statuses"] == base["statuses"]
    assert data["carried_by"] == base["carried_by"] and data["target"]["any"] == base["target"]["any"]
    campaign = parse_campaign(data)
    assert (campaign.starts, campaign.ends) == (STARTS, dt.date(2026, 12, 9))
    assert campaign.grids == ("G01", "东门社区第二网格")
    assert campaign.target.buildings == {"3号楼", "5号楼"}


def test_words_a_clerk_writes_read_as_the_definitions_keys(tmp_path: Path) -> None:
    path = edit(
        filled(tmp_path, None),
        {
            "活动!B5": "户",
            "活动!B8": "安全员、服务员",
            "活动!B9": "物资保障组",
            "活动!B11": "常住，流动",
            "对象规则!A2": "80岁以上高龄、残疾",
            "对象规则!B2": 60,
            "对象规则!F2": "居家隔离",
            "表单!A2": "item",
            "表单!B2": "物资",
            "表单!C2": "选择",
            "表单!D2": "大米、食用油",
            "表单!G2": "是",
            "表单!A3": "qty",
            "表单!B3": "数量",
            "表单!C3": "数字",
            "表单!E3": 1,
            "表单!F3": "99.5",
            "表单!G3": True,  # an Excel TRUE cell
            "状态!A2": "got",
            "状态!B2": "已领取",
            "状态!C2": "完成",
            "状态!A3": "away",
            "状态!B3": "不在家",
            "状态!C3": "免除",
            "状态!D3": "是",
        },
    )
    campaign = parse_campaign(read_campaign_file(path))
    assert campaign.subject == "household" and campaign.template == "custom"
    assert (campaign.roles, campaign.groups) == (("safety", "service"), ("supplies",))
    clause = campaign.target.clauses[0]
    assert clause.groups == {"very_old", "disabled"} and clause.min_age == 60 and clause.isolation == {"home"}
    assert campaign.target.residency == {"resident", "floating"}
    assert [(f.name, f.type, f.choices, f.required) for f in campaign.form] == [
        ("item", "choice", ("大米", "食用油"), True),
        ("qty", "number", (), True),
    ]
    assert (campaign.form[1].minimum, campaign.form[1].maximum) == (1, 99.5)
    assert [(s.key, s.counts, s.needs_reason) for s in campaign.statuses] == [
        ("got", "done", False),
        ("away", "excused", True),
    ]


def test_each_mistake_is_reported_at_its_cell_without_quoting_it(tmp_path: Path) -> None:
    """A bad type, an unknown group, a missing name, a bad date, a duplicate status code, an age that is no number."""
    path = edit(
        filled(tmp_path),
        {
            "表单!C4": "滑块",
            "对象规则!A3": "残疾、外星人",
            "活动!B3": None,
            "活动!B6": "下周一",
            "状态!A3": "moved",
            "对象规则!C2": "八十",
            "表单!G2": "也许",
        },
    )
    found = problems(path)
    assert set(found) == {"表单!C4", "对象规则!A3", "活动!B3", "活动!B6", "状态!A3", "对象规则!C2", "表单!G2"}
    assert "选择、数字、日期、日期时间、是否、文本、签名" in found["表单!C4"]
    assert "80岁以上高龄" in found["对象规则!A3"]
    assert found["活动!B3"] == "必须填写"
    assert "日期" in found["活动!B6"]
    assert found["状态!A3"] == "重复使用"
    assert found["对象规则!C2"] == "应为整数"
    assert "是" in found["表单!G2"]
    text = "\n".join(found.values())
    for written in ("滑块", "外星人", "下周一", "八十", "也许"):
        assert written not in text
    english = problems(path, "en")
    assert english["活动!B3"] == "is required" and english["状态!A3"] == "is used twice"
    with pytest.raises(CampaignSheetError) as caught:
        read_campaign_file(path)
    assert caught.value.describe().splitlines()[0].startswith(("表单!C4：", "活动!", "对象规则!", "状态!"))


def test_a_definition_problem_reached_through_a_list_names_its_cell(tmp_path: Path) -> None:
    """parse_campaign's own checks (a code that is no code, a choice field without choices, max below min,
    an end before the start, no status counted as done) come back at the cells they were read from."""
    path = edit(
        filled(tmp_path),
        {
            "活动!B2": "Typhoon 2026",
            "表单!C3": "选择",
            "表单!E2": 5,
            "表单!F2": 1,
            "表单!C2": "数字",
            "活动!B7": dt.datetime(2026, 12, 1),
            "状态!C2": "未完成",
        },
    )
    found = problems(path)
    assert set(found) == {"活动!B2", "表单!D3", "表单!F2", "活动!B7", "状态"}
    assert "小写字母" in found["活动!B2"] and "选项" in found["表单!D3"] and "上限" in found["表单!F2"]
    assert "结束日期" in found["活动!B7"] and "完成" in found["状态"]


def test_a_missing_sheet_or_header_names_the_sheet_and_row(tmp_path: Path) -> None:
    path = filled(tmp_path, None)
    book = openpyxl.load_workbook(path)
    del book["表单"]
    book["状态"]["C1"] = "算作"
    book["活动"]["A1"] = "名目"
    book.save(path)
    found = problems(path)
    assert found["表单"] == "工作簿中没有这张工作表（现有工作表：活动、对象规则、状态、填写说明）"
    assert found["状态"] == "第 1 行缺少表头“计为”"
    assert found["活动"] == "第 1 行缺少表头“项目”"
    assert "代码、名称、计为、需原因" in found["状态!C1"]


def test_an_unknown_item_or_one_given_twice_is_named_by_its_row(tmp_path: Path) -> None:
    path = edit(filled(tmp_path), {"活动!A14": "负责人", "活动!B14": "张三", "活动!A15": "名称", "活动!B15": "x"})
    found = problems(path)
    assert set(found) == {"活动!A14", "活动!A15"}
    assert "张三" not in found["活动!A14"] and found["活动!A15"] == "项目重复"


def test_blank_rows_between_entries_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = edit(filled(tmp_path), {"表单!A9": "note", "表单!B9": "备注", "表单!C9": "无此类型"})
    path = edit(path, {f"表单!{c}6": None for c in "ABCDEFG"})
    assert set(problems(path)) == {"表单!C9"}


def test_a_json_file_reads_with_its_paths_as_places(tmp_path: Path) -> None:
    good = tmp_path / "typhoon.json"
    good.write_text(
        json.dumps({"key": "t1", "name": "转移", "template": "防台风转移", "starts": "2026-12-06"}), "utf-8"
    )
    assert parse_campaign(read_campaign_file(good)) == from_template("typhoon", "t1", "转移", STARTS)
    bad = tmp_path / "bad.json"
    definition = {**template_data("typhoon"), "key": "t1", "name": "转移", "starts": "2026-13-01"}
    definition["form"] = [*definition["form"], {"name": "x", "label": "X", "type": "slider"}]
    bad.write_text(json.dumps(definition), "utf-8")
    found = problems(bad, "en")
    assert set(found) == {"starts", "form[6].type"}
    broken = tmp_path / "broken.json"
    broken.write_text('{"key": "t1",\n  "name": }', "utf-8")
    assert problems(broken) == {"broken.json": "不是有效的 JSON（第 2 行）"}


def test_a_file_that_is_no_workbook_or_json_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "campaign.txt"
    text.write_text("代码 typhoon", "utf-8")
    assert "xlsx" in problems(text)["campaign.txt"]
    fake = tmp_path / "campaign.xlsx"
    fake.write_text("not a zip", "utf-8")
    assert "xlsx" in problems(fake)["campaign.xlsx"]


_WORD = st.text(alphabet="风雨安置点物资大米油一二三456", min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["choice", "number", "date", "datetime", "yesno", "text", "signature"]),
            _WORD,
            st.lists(_WORD, min_size=1, max_size=4, unique=True),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    counts=st.lists(st.sampled_from(["done", "excused", "open"]), min_size=1, max_size=5).map(lambda c: ["done", *c]),
)
def test_any_form_and_statuses_the_template_writer_writes_read_back_the_same(
    tmp_path: Path, fields: list[tuple[str, str, list[str], bool]], counts: list[str]
) -> None:
    definition = {
        "key": "c1",
        "name": "自定义",
        "template": "custom",
        "starts": "2026-12-06",
        "target": {"any": [{"groups": ["disabled"], "max_age": 90}], "residency": ["resident"]},
        "form": [
            {"name": f"f{n}", "label": label, "type": kind, "required": required}
            | ({"choices": choices} if kind == "choice" else {})
            | ({"min": 0, "max": 10.5} if kind == "number" else {})
            for n, (kind, label, choices, required) in enumerate(fields)
        ],
        "statuses": [{"key": f"s{n}", "label": f"结果{n}", "counts": c} for n, c in enumerate(counts)],
    }
    expected = parse_campaign(definition)
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(definition), "utf-8")
    assert parse_campaign(read_campaign_file(path)) == expected
    sheet = tmp_path / "custom.xlsx"
    write_campaign_template(sheet, None, key="c1", name="自定义", starts=STARTS)
    book = openpyxl.load_workbook(sheet)
    for n, item in enumerate(expected.form, start=2):
        row = [item.name, item.label, _TYPE_WORDS[item.type], "、".join(item.choices), item.minimum, item.maximum]
        for column, value in zip("ABCDEF", row, strict=True):
            book["表单"][f"{column}{n}"] = value
        book["表单"][f"G{n}"] = "是" if item.required else "否"
    for n, status in enumerate(expected.statuses, start=2):
        for column, value in zip(
            "ABCD",
            (status.key, status.label, _COUNT_WORDS[status.counts], "是" if status.needs_reason else "否"),
            strict=True,
        ):
            book["状态"][f"{column}{n}"] = value
    book["对象规则"]["A2"], book["对象规则"]["C2"], book["活动"]["B11"] = "残疾", 90, "常住"
    book.save(sheet)
    assert parse_campaign(read_campaign_file(sheet)) == expected


_TYPE_WORDS = {
    "choice": "选择",
    "number": "数字",
    "date": "日期",
    "datetime": "日期时间",
    "yesno": "是否",
    "text": "文本",
    "signature": "签名",
}
_COUNT_WORDS = {"done": "完成", "excused": "免除", "open": "未完成"}


def test_a_missing_file_and_a_sheet_formatted_far_below_its_rows(tmp_path: Path) -> None:
    assert "文件不存在" in problems(tmp_path / "nowhere.xlsx")["nowhere.xlsx"]
    assert "no such file" in problems(tmp_path / "nowhere.json", "en")["nowhere.json"]
    path = filled(tmp_path)
    book = openpyxl.load_workbook(path)
    book["表单"]["A5000"] = " "  # a cell far down that holds only a space: the sheet ends at its last entry
    book["表单"]["H3"] = "备注里写的字"
    book["表单"]["H1"] = "备注"
    book.save(path)
    assert parse_campaign(read_campaign_file(path)) == from_template(
        "typhoon", "typhoon-2026-12", "防台风转移（12月）", STARTS
    )


def test_every_sheet_message_is_said_in_both_languages_and_the_catalog_is_sorted() -> None:
    from field_agent.ledgers.campaign_sheet_messages import MESSAGES

    assert list(MESSAGES) == sorted(MESSAGES)
    assert all(set(texts) == {"zh_CN", "en"} for texts in MESSAGES.values())
    assert all(sorted(texts) == list(texts) for texts in MESSAGES.values())  # en before zh_CN, as written
