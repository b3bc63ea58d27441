"""The campaign sheet the town office starts from: blank, or filled with a shipped template (docs/LEDGERS.md,
"Campaign sheet"). ``read_campaign_file`` reads back exactly what this writes.

The workbook has the four sheets the reader reads (活动, 对象规则, 表单, 状态), drop-down lists where a cell takes one
of a few words (模板, 对象, 类型, 必填, 计为, 需原因), and a 填写说明 sheet listing the words each cell may hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from field_agent.domain.campaigns.templates import TEMPLATES, template_data
from field_agent.domain.roles import DEFAULT_GROUPS, DEFAULT_ROLES
from field_agent.ledgers import campaign_words as words

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_JOIN = "、"


def write_campaign_template(
    path: Path | str,
    template_key: str | None = None,
    *,
    key: str = "",
    name: str = "",
    starts: dt.date | None = None,
    ends: dt.date | None = None,
    grids: Sequence[str] = (),
) -> None:
    """Write a campaign sheet to ``path`` (.xlsx): blank, or filled with the template ``template_key`` (KeyError
    for an unknown one). ``key``, ``name``, the dates and ``grids`` fill the 活动 sheet when given."""
    data: Mapping[str, Any] = template_data(template_key) if template_key is not None else {}
    book = Workbook()
    first = book.active
    if not isinstance(first, Worksheet):
        raise TypeError("a new workbook's active sheet is not a worksheet")
    first.title = words.CAMPAIGN_SHEET
    _campaign_sheet(first, data, template_key, key=key, name=name, starts=starts, ends=ends, grids=grids)
    _table(book, words.TARGET_SHEET, words.TARGET_HEADERS, [_clause_row(c) for c in _clauses(data)], {})
    _table(
        book,
        words.FORM_SHEET,
        words.FORM_HEADERS,
        [_field_row(f) for f in data.get("form") or []],
        {"类型": words.FIELD_TYPES, "必填": words.YES_NO},
    )
    _table(
        book,
        words.STATUS_SHEET,
        words.STATUS_HEADERS,
        [_status_row(s) for s in data.get("statuses") or []],
        {"计为": words.COUNTS, "需原因": words.YES_NO},
    )
    _help_sheet(book)
    book.save(path)


def _campaign_sheet(
    sheet: Worksheet,
    data: Mapping[str, Any],
    template_key: str | None,
    *,
    key: str,
    name: str,
    starts: dt.date | None,
    ends: dt.date | None,
    grids: Sequence[str],
) -> None:
    carried = data.get("carried_by") or {}
    target = data.get("target") or {}
    values: dict[str, Any] = {
        "代码": key,
        "名称": name,
        "模板": TEMPLATES[template_key]["label"] if template_key else "",
        "对象": words.first_word(words.SUBJECTS, data.get("subject", "resident")),
        "开始日期": starts,
        "结束日期": ends,
        "执行角色": _JOIN.join(words.first_word(words.ROLES, r) for r in carried.get("roles") or []),
        "执行小组": _JOIN.join(words.first_word(words.CARRYING_GROUPS, g) for g in carried.get("groups") or []),
        "网格": _JOIN.join(grids),
        "居住类型": _JOIN.join(words.first_word(words.RESIDENCY, r) for r in target.get("residency") or []),
        "楼栋": _JOIN.join(target.get("buildings") or []),
        "名单": _JOIN.join(target.get("ids") or []),
    }
    _header(sheet, [words.ITEM_HEADER, words.VALUE_HEADER, words.NOTE_HEADER])
    for number, (item, value) in enumerate(values.items(), start=2):
        sheet.cell(row=number, column=1, value=item).font = Font(bold=True)
        cell = sheet.cell(row=number, column=2, value=value if value not in ("", None) else None)
        if item in ("开始日期", "结束日期"):
            cell.number_format = "yyyy-mm-dd"
        sheet.cell(row=number, column=3, value=words.ITEM_NOTES[item]).alignment = Alignment(wrap_text=True)
    for column, width in zip("ABC", (12, 40, 60), strict=True):
        sheet.column_dimensions[column].width = width
    _choices(sheet, "B4", words.TEMPLATE_WORDS)
    _choices(sheet, "B5", words.SUBJECTS)


def _table(
    book: Workbook,
    title: str,
    headers: Mapping[str, str],
    rows: list[Mapping[str, Any]],
    lists: Mapping[str, Mapping[Any, tuple[str, ...]]],
) -> None:
    sheet = book.create_sheet(title)
    names = list(headers)
    _header(sheet, names)
    for number, row in enumerate(rows, start=2):
        for column, header in enumerate(names, start=1):
            value = row.get(headers[header])
            sheet.cell(row=number, column=column, value=None if value in ("", None) else value)
    for column, header in enumerate(names, start=1):
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = 36 if header in ("特殊人群", "选项", "名称", "标签", "户标签") else 12
        if header in lists:
            _choices(sheet, f"{letter}2:{letter}200", lists[header])
    sheet.freeze_panes = "A2"


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    for column, header in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL


def _choices(sheet: Worksheet, cells: str, table: Mapping[Any, tuple[str, ...]]) -> None:
    """A drop-down of the table's words (Excel still takes any other word the reader knows)."""
    listed = ",".join(words.first_word(table, key) for key in table)
    validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=False)
    sheet.add_data_validation(validation)
    validation.add(cells)


def _clauses(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((data.get("target") or {}).get("any") or [])


def _clause_row(clause: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "groups": _JOIN.join(words.first_word(words.GROUPS, g) for g in clause.get("groups") or []),
        "min_age": clause.get("min_age"),
        "max_age": clause.get("max_age"),
        "tags": _JOIN.join(clause.get("tags") or []),
        "household_tags": _JOIN.join(clause.get("household_tags") or []),
        "isolation": _JOIN.join(words.first_word(words.ISOLATION, i) for i in clause.get("isolation") or []),
    }


def _field_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": item.get("name"),
        "label": item.get("label"),
        "type": words.first_word(words.FIELD_TYPES, item.get("type")),
        "choices": _JOIN.join(item.get("choices") or []),
        "min": item.get("min"),
        "max": item.get("max"),
        "required": words.first_word(words.YES_NO, bool(item.get("required"))),
    }


def _status_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": item.get("key"),
        "label": item.get("label"),
        "counts": words.first_word(words.COUNTS, item.get("counts")),
        "needs_reason": words.first_word(words.YES_NO, bool(item.get("needs_reason"))),
    }


def _help_sheet(book: Workbook) -> None:
    sheet = book.create_sheet(words.HELP_SHEET)
    lines = [
        ("工作表", "怎么填"),
        (words.CAMPAIGN_SHEET, "每行一个项目；代码、名称、开始日期必填。填了模板时，其余留空的部分取自模板。"),
        (
            words.TARGET_SHEET,
            "每行一条规则：符合任意一行即为走访对象；一行中填写的各条件须同时满足。留空则为全部居民。",
        ),
        (words.FORM_SHEET, "每行一个要记录的项目；字段代码用小写字母、数字、- 和 _。"),
        (words.STATUS_SHEET, "每行一个走访结果；至少一个计为“完成”。"),
        ("对象", words.choices_text(words.SUBJECTS)),
        ("特殊人群", words.choices_text(words.GROUPS)),
        ("隔离状态", words.choices_text(words.ISOLATION)),
        ("居住类型", words.choices_text(words.RESIDENCY)),
        ("执行角色", _JOIN.join(r.zh_CN for r in DEFAULT_ROLES)),
        ("执行小组", _JOIN.join(g.zh_CN for g in DEFAULT_GROUPS)),
        ("类型", words.choices_text(words.FIELD_TYPES)),
        ("计为", words.choices_text(words.COUNTS)),
        ("必填、需原因", "是 或 否"),
        ("多个值", "用顿号（、）或逗号分隔"),
    ]
    for number, (what, how) in enumerate(lines, start=1):
        sheet.cell(row=number, column=1, value=what).font = Font(bold=True)
        sheet.cell(row=number, column=2, value=how).alignment = Alignment(wrap_text=True)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 90
