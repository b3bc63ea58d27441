"""What the campaign sheet reader says of a cell, in Chinese (the default) and English; with the domain's messages
(``campaign.*``, said through ``field_agent.domain.i18n``) for the problems the definition's own check finds.

A message names the cell's place and what it should hold, never what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.i18n import language_or_default, say
from field_agent.domain.messages import Message

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "date": {
        "en": "must be a date: a date cell, or written like 2026-12-06",
        "zh_CN": "应为日期：设为日期格式的单元格，或写成 2026-12-06",
    },
    "file_format": {
        "en": "a campaign file is an .xlsx workbook or a .json file",
        "zh_CN": "活动定义文件应为 .xlsx 工作簿或 .json 文件",
    },
    "header_missing": {"en": "the header {header} is missing from row 1", "zh_CN": "第 1 行缺少表头“{header}”"},
    "header_twice": {"en": "this header is used twice", "zh_CN": "表头重复"},
    "header_unknown": {
        "en": "is not a header of this sheet; its headers are {headers}",
        "zh_CN": "不是本表的表头；可用的表头为 {headers}",
    },
    "item_twice": {"en": "this item is given twice", "zh_CN": "项目重复"},
    "item_unknown": {
        "en": "is not an item of this sheet; its items are {items}",
        "zh_CN": "不是本表的项目；可用的项目为 {items}",
    },
    "json": {"en": "is not valid JSON (line {line})", "zh_CN": "不是有效的 JSON（第 {line} 行）"},
    "number": {"en": "must be a number", "zh_CN": "应为数字"},
    "sheet_missing": {
        "en": "the workbook has no such sheet (its sheets are {sheets})",
        "zh_CN": "工作簿中没有这张工作表（现有工作表：{sheets}）",
    },
    "template": {
        "en": "is not a shipped template; the templates are {choices}",
        "zh_CN": "不是已有的模板；模板为 {choices}",
    },
    "unreadable": {
        "en": "cannot be read: there is no such file, or no permission to read it",
        "zh_CN": "无法读取：文件不存在，或没有读取权限",
    },
    "whole": {"en": "must be a whole number", "zh_CN": "应为整数"},
    "word": {"en": "must be one of {choices}", "zh_CN": "只能是以下之一：{choices}"},
    "words": {"en": "each entry must be one of {choices}", "zh_CN": "每一项只能是以下之一：{choices}"},
    "yes_no": {"en": "must be 是 (yes) or 否 (no)", "zh_CN": "应填“是”或“否”"},
}


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One problem of a campaign file: the cell (``表单!C4``; a sheet, or the file, when no cell is to blame) and
    what is wrong: a key of ``MESSAGES`` and its parameters, or a domain message (``message``)."""

    cell: str
    key: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    message: Message | None = None

    def text(self, language: str | None = None) -> str:
        """What is wrong, in ``language`` (Chinese by default)."""
        lang = language_or_default(language)
        if self.message is not None:
            return say(self.message, lang)
        return MESSAGES[self.key][lang].format(**self.params)

    def line(self, language: str | None = None) -> str:
        """``表单!C4：只能是以下之一：…`` (``: `` in English)."""
        joiner = ": " if language_or_default(language) == "en" else "："
        return f"{self.cell}{joiner}{self.text(language)}" if self.cell else self.text(language)
