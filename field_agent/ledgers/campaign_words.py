"""The words of a campaign sheet (docs/LEDGERS.md, "Campaign sheet"): its sheets, their headers and items, and the
Chinese words a clerk writes for each coded value, read back to the definition's keys.

Each table maps a key to the words that mean it; the first word is the one the template workbook writes. A key
itself (``choice``, ``done``) is always read too, so a definition written by hand in English words reads as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from field_agent.domain.campaigns.templates import TEMPLATES
from field_agent.domain.enums import ISOLATION_STATUSES, RESIDENCY_TYPES, SPECIAL_GROUPS
from field_agent.domain.roles import DEFAULT_GROUPS, DEFAULT_ROLES, Label
from field_agent.ledgers import labels

Words = Mapping[Any, tuple[str, ...]]
"""A table of coded values: each key and the words that mean it."""

# --- sheets, items and headers -------------------------------------------------------------------------------------

CAMPAIGN_SHEET = "活动"
TARGET_SHEET = "对象规则"
FORM_SHEET = "表单"
STATUS_SHEET = "状态"
HELP_SHEET = "填写说明"
"""Written by the template for the clerk; never read."""

ITEM_HEADER, VALUE_HEADER, NOTE_HEADER = "项目", "内容", "说明"

ITEMS: Mapping[str, str] = {  # the 活动 sheet's items (column A) and the definition's part each fills
    "代码": "key",
    "名称": "name",
    "模板": "template",
    "对象": "subject",
    "开始日期": "starts",
    "结束日期": "ends",
    "执行角色": "carried_by.roles",
    "执行小组": "carried_by.groups",
    "网格": "grids",
    "居住类型": "target.residency",
    "楼栋": "target.buildings",
    "名单": "target.ids",
}

ITEM_NOTES: Mapping[str, str] = {
    "代码": "简短代码：小写字母、数字、- 和 _，如 typhoon-2026-12",
    "名称": "活动名称，如 防台风转移（12月）",
    "模板": "防台风转移、疫苗接种、独居老人巡访、物资发放、核酸上门采样之一；留空的部分取自模板",
    "对象": "居民 或 户",
    "开始日期": "如 2026-12-06",
    "结束日期": "可留空",
    "执行角色": "如 安全员、服务员（用、分隔）",
    "执行小组": "如 安全巡查组、物资保障组（用、分隔）",
    "网格": "网格编号或名称（用、分隔）",
    "居住类型": "常住、流动、外出；留空为常住、流动",
    "楼栋": "只走访这些楼栋（可留空）",
    "名单": "不论规则一定要走访的居民或户的编号（可留空）",
}

TARGET_HEADERS: Mapping[str, str] = {  # 对象规则: one row per clause
    "特殊人群": "groups",
    "最小年龄": "min_age",
    "最大年龄": "max_age",
    "标签": "tags",
    "户标签": "household_tags",
    "隔离状态": "isolation",
}
FORM_HEADERS: Mapping[str, str] = {
    "字段代码": "name",
    "名称": "label",
    "类型": "type",
    "选项": "choices",
    "最小值": "min",
    "最大值": "max",
    "必填": "required",
}
STATUS_HEADERS: Mapping[str, str] = {"代码": "key", "名称": "label", "计为": "counts", "需原因": "needs_reason"}
REQUIRED_HEADERS: Mapping[str, tuple[str, ...]] = {
    TARGET_SHEET: (),
    FORM_SHEET: ("字段代码", "名称", "类型"),
    STATUS_SHEET: ("代码", "名称", "计为"),
}
IGNORED_HEADERS = frozenset({"备注", "说明"})
"""Columns a clerk may add for their own notes; never read."""

# --- coded values -----------------------------------------------------------------------------------------------

FIELD_TYPES: Mapping[str, tuple[str, ...]] = {
    "choice": ("选择", "单选", "选项"),
    "number": ("数字", "数值", "数量"),
    "date": ("日期",),
    "datetime": ("日期时间", "时间"),
    "yesno": ("是否", "是/否"),
    "text": ("文本", "文字"),
    "signature": ("签名", "签字"),
}
COUNTS: Mapping[str, tuple[str, ...]] = {
    "done": ("完成", "已完成"),
    "excused": ("免除", "免", "已免除"),
    "open": ("未完成", "未走访"),
}
SUBJECTS: Mapping[str, tuple[str, ...]] = {"resident": ("居民", "人"), "household": ("户", "家庭", "住户")}
YES_NO: Mapping[bool, tuple[str, ...]] = {
    True: ("是", "需要", "y", "yes", "true", "√", "✓"),
    False: ("否", "不需要", "n", "no", "false"),
}
RESIDENCY: Mapping[str, tuple[str, ...]] = {
    key: (labels.RESIDENCY[key], labels.RESIDENCY[key] + "人口") for key in RESIDENCY_TYPES
}
ISOLATION: Mapping[str, tuple[str, ...]] = {
    key: (labels.ISOLATION[key], *{"none": ("未隔离",), "home": ("居家隔离",), "ended": ("解除隔离",)}[key])
    for key in ISOLATION_STATUSES
}
GROUPS: Mapping[str, tuple[str, ...]] = {key: (labels.GROUPS[key],) for key in SPECIAL_GROUPS}

SEPARATORS = re.compile(r"[、,，;；\n]+")


def label_words(items: Sequence[Label]) -> dict[str, tuple[str, ...]]:
    """A town's roles or groups as words: the Chinese name, then the English one."""
    return {item.key: (item.zh_CN, item.en) for item in items}


ROLES = label_words(DEFAULT_ROLES)
CARRYING_GROUPS = label_words(DEFAULT_GROUPS)
TEMPLATE_WORDS: Mapping[str, tuple[str, ...]] = {key: (str(data["label"]),) for key, data in TEMPLATES.items()}


def first_word(table: Words, key: object) -> str:
    """The word the template workbook writes for ``key`` (the key itself when the table has none)."""
    words = table.get(key)
    return words[0] if words else str(key)


def key_of(table: Words, word: str) -> object | None:
    """The key a written word means (its key, or one of its words, case and spaces aside), or None."""
    wanted = "".join(word.split()).casefold()
    for key, words in table.items():
        if wanted == str(key).casefold() or any(wanted == "".join(w.split()).casefold() for w in words):
            return key
    return None


def split_words(text: str) -> list[str]:
    """``a、b, c`` as ``["a", "b", "c"]`` (、 , ， ; ； or a new line between them), empty parts dropped."""
    return [part.strip() for part in SEPARATORS.split(text) if part.strip()]


def choices_text(table: Words) -> str:
    """The words a cell may hold, as a message lists them: ``选择、数字、日期``."""
    return "、".join(first_word(table, key) for key in table)
