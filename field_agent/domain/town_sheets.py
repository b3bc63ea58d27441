"""The town configuration as the office fills it in Excel: a sheet per section, each problem named by its cell.

A workbook has a sheet per section, each optional (a section left out keeps the values in force):

- ``设置`` (settings): column A names a setting, column B holds its value, one per row: 生效日期 (effective),
  平板保留天数 (tablet_retention_days: days, or 不限/off), 时区 (time_zone), 组长所在分组 (leader_group), 上门采样人群
  (eligibility.groups: keys separated by commas or 、), 居家隔离上门采样 (eligibility.home_isolation: 是/否),
  不上门的居住状态 (eligibility.excluded_residency). The English key works in column A too.
- ``角色`` (roles): a header row, then one role a row: key, 中文名, English name, 战时分组 (its wartime group).
- ``分组`` (groups): a header row, then one group a row: key, 中文名, English name, 平时角色 (the role its leftover
  tasks return to; may be blank).

``from_workbook`` reads the sheets' cell texts (the server reads the file: ``server_stub/town_config_file.py``)
into the JSON form ``TownConfig.from_dict`` reads, noting the cell each setting came from; ``ConfigFile.placed``
then moves each problem of the parser from its place in the settings (``roles[2].zh_CN``) to its cell
(``角色!B3``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.messages import msg
from field_agent.domain.town import Problem, TownConfigError


@dataclass(frozen=True)
class Rows:
    """One sheet's cell texts; ``cell(row, column)`` 1-based, '' outside."""

    rows: Sequence[Sequence[str]]

    def cell(self, row: int, column: int) -> str:
        if 1 <= row <= len(self.rows) and 1 <= column <= len(self.rows[row - 1]):
            return str(self.rows[row - 1][column - 1] or "").strip()
        return ""


SETTINGS_SHEET, ROLES_SHEET, GROUPS_SHEET = "设置", "角色", "分组"
# column A of the settings sheet: the Chinese label or the key itself
SETTING_NAMES = {
    "生效日期": "effective",
    "平板保留天数": "tablet_retention_days",
    "时区": "time_zone",
    "组长所在分组": "leader_group",
    "上门采样人群": "eligibility.groups",
    "居家隔离上门采样": "eligibility.home_isolation",
    "不上门的居住状态": "eligibility.excluded_residency",
}
LIST_SETTINGS = ("eligibility.groups", "eligibility.excluded_residency")
LABEL_COLUMNS = {"key": "A", "zh_CN": "B", "en": "C"}
KEEP_ALL = ("不限", "off", "none", "null", "全部保留")
YES, NO = ("是", "true", "yes", "1"), ("否", "false", "no", "0")
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_WHERE = re.compile(r"(roles|groups)\[(\d+)\](?:\.(key|zh_CN|en))?$")


@dataclass
class ConfigFile:
    """What a file says (``data``: the settings, as the JSON form has them) and, for a workbook, the cell each
    setting came from (``cells``: a problem's place -> ``角色!B3``)."""

    data: dict[str, Any]
    cells: dict[str, str] = field(default_factory=dict)

    def placed(self, error: TownConfigError) -> TownConfigError:
        """``error`` with each problem at the cell its setting came from (unchanged for JSON)."""
        if not self.cells:
            return error
        return TownConfigError([Problem(self._cell(p.where), p.detail) for p in error.problems])

    def _cell(self, where: str) -> str:
        if where in self.cells:
            return self.cells[where]
        match = _WHERE.match(where)
        if match and f"{match[1]}[{match[2]}]" in self.cells:
            row_cell = self.cells[f"{match[1]}[{match[2]}]"]  # 角色!A3: the row; the column from the part
            sheet, cell = row_cell.split("!")
            return f"{sheet}!{LABEL_COLUMNS.get(match[3] or 'key', 'A')}{cell[1:]}"
        head = where.split(".")[0].split("[")[0]
        return self.cells.get(head, where)


def from_workbook(sheets: Mapping[str, Sequence[Sequence[str]]], name: str) -> ConfigFile:
    """The settings a workbook's sheets hold (each sheet's rows of cell texts, by sheet name; ``name``: the
    file's, to place a problem with the whole file); TownConfigError lists what cannot be read."""
    found = ConfigFile({})
    if not any(title in sheets for title in (SETTINGS_SHEET, ROLES_SHEET, GROUPS_SHEET)):
        raise TownConfigError([Problem(name, msg("town.sheets", sheets="、".join(_SHEETS)))])
    problems: list[Problem] = []
    if SETTINGS_SHEET in sheets:
        _settings(Rows(sheets[SETTINGS_SHEET]), found, problems)
    for title, labels, mapping in ((ROLES_SHEET, "roles", "role_to_group"), (GROUPS_SHEET, "groups", "group_to_role")):
        if title in sheets:
            _labels(Rows(sheets[title]), title, labels, mapping, found)
    if problems:
        raise TownConfigError(problems)
    return found


_SHEETS = (SETTINGS_SHEET, ROLES_SHEET, GROUPS_SHEET)


def _settings(sheet: Rows, found: ConfigFile, problems: list[Problem]) -> None:
    eligibility: dict[str, Any] = {}
    for row in range(1, len(sheet.rows) + 1):
        label, text = sheet.cell(row, 1), sheet.cell(row, 2)
        if not label:
            continue
        key = SETTING_NAMES.get(label, label)
        cell = f"{SETTINGS_SHEET}!B{row}"
        if key not in SETTING_NAMES.values():
            if row == 1:
                continue  # a header row
            problems.append(
                Problem(f"{SETTINGS_SHEET}!A{row}", msg("town.setting_name", names="、".join(SETTING_NAMES)))
            )
            continue
        value = _setting_value(key, text)
        found.cells[key] = cell
        if key.startswith("eligibility."):
            eligibility[key.split(".", 1)[1]] = value
        else:
            found.data[key] = value
    if eligibility:
        found.data["eligibility"] = eligibility
        found.cells.setdefault("eligibility", f"{SETTINGS_SHEET}!A1")


def _setting_value(key: str, text: str) -> Any:
    """A cell's text as the JSON form has the setting; what cannot be read is passed on for the parser to refuse
    (and the problem is then placed at this cell)."""
    if key == "tablet_retention_days":
        if text.lower() in KEEP_ALL:
            return None
        return int(text) if text.isdigit() else text
    if key == "eligibility.home_isolation":
        lowered = text.lower()
        return True if lowered in YES else False if lowered in NO else text
    if key in LIST_SETTINGS:
        return [item for item in _LIST_SPLIT.split(text) if item]
    return text


def _labels(sheet: Rows, title: str, labels: str, mapping: str, found: ConfigFile) -> None:
    items: list[dict[str, str]] = []
    pairs: dict[str, str] = {}
    for row in range(2, len(sheet.rows) + 1):  # row 1: the header
        values = [sheet.cell(row, column) for column in (1, 2, 3, 4)]
        if not any(values):
            continue
        key, zh, en, other = values
        items.append({"key": key, "zh_CN": zh, "en": en})
        found.cells[f"{labels}[{len(items)}]"] = f"{title}!A{row}"
        found.cells[f"{mapping}.{key}"] = f"{title}!D{row}"
        if other:
            pairs[key] = other
    found.data[labels] = items
    found.data[mapping] = pairs
    found.cells[labels] = f"{title}!A1"
    found.cells[mapping] = f"{title}!D1"
