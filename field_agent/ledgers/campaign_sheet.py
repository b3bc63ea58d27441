"""Read a campaign's definition from the town office's campaign sheet (.xlsx filled in Excel) or a .json file.

``read_campaign_file(path)`` returns the definition as data for ``parse_campaign`` (already checked by it), or
raises ``CampaignSheetError`` with every problem at its cell: a word the sheet does not know (``表单!C4``: a field
type other than 选择/数字/…), and every problem ``parse_campaign`` finds, its path (``form[2].type``) traced back to
the cell it was read from. The workbook's layout is in ``campaign_words`` and docs/LEDGERS.md ("Campaign sheet");
``campaign_sheet_template`` writes a blank or filled one.

A campaign that names a shipped template (its key, or its Chinese name such as 防台风转移) takes from it whatever
the file leaves empty: the subject, the target clauses and residency, the form, the statuses and who carries it out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from field_agent.domain.campaigns.definition import DefinitionError, parse_campaign
from field_agent.domain.campaigns.templates import TEMPLATES, template_data
from field_agent.domain.roles import DEFAULT_GROUPS, DEFAULT_ROLES, Label
from field_agent.ledgers import campaign_words as words
from field_agent.ledgers.campaign_sheet_messages import CellProblem
from field_agent.ledgers.errors import CampaignSheetError

CUSTOM_TEMPLATE = "custom"
"""The ``template`` of a campaign the office defines without a shipped template."""

Table = Mapping[Any, tuple[str, ...]]
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
BLANK_RUN = 200
"""Empty rows in a row that end a sheet."""
_LAST_PART = re.compile(r"^(.*)(\[\d+\]|\.[^.\[\]]+)$")


def read_campaign_file(
    path: Path, *, roles: Sequence[Label] = DEFAULT_ROLES, groups: Sequence[Label] = DEFAULT_GROUPS
) -> dict[str, Any]:
    """The campaign an .xlsx campaign sheet or a .json file defines, as data ``parse_campaign`` accepts (the
    town's ``roles`` and ``groups`` are those that may carry it out); ``CampaignSheetError`` names every problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data, places, problems = _read_json(path), {}, []
    elif suffix in (".xlsx", ".xlsm"):
        reader = _SheetReader(roles, groups)
        data = reader.read(path)
        places, problems = reader.places, reader.problems
    else:
        raise CampaignSheetError([CellProblem(path.name, "file_format")])
    data = with_template(data)
    try:
        parse_campaign(data, role_keys=[r.key for r in roles], group_keys=[g.key for g in groups])
    except DefinitionError as error:
        blamed = {p.cell for p in problems}
        for problem in error.problems:
            cell = place_of(problem.path, places)
            if cell not in blamed:  # the reader already said what is wrong there, in the sheet's words
                problems.append(CellProblem(cell, message=problem.message))
    if problems:
        raise CampaignSheetError(problems)
    return data


def with_template(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with what it leaves empty taken from the template it names (a key or a Chinese name); a campaign
    naming none is ``custom``."""
    filled = dict(data)
    named = filled.get("template")
    if named in (None, ""):
        filled["template"] = CUSTOM_TEMPLATE
        return filled
    if isinstance(named, str) and named not in TEMPLATES:
        found = words.key_of(words.TEMPLATE_WORDS, named)
        filled["template"] = named = found if found is not None else named
    if not isinstance(named, str) or named not in TEMPLATES:
        return filled
    base = template_data(named)
    for part in ("subject", "form", "statuses"):
        if filled.get(part) in (None, "", []):
            filled[part] = base[part]
    carried = filled.get("carried_by")
    if isinstance(carried, Mapping) or carried is None:
        carried = dict(carried or {})
        for part in ("roles", "groups"):
            if not carried.get(part):
                carried[part] = list(base["carried_by"][part])
        filled["carried_by"] = carried
    target = filled.get("target")
    if isinstance(target, Mapping) or target is None:
        target = dict(target or {})
        if not target.get("any"):
            target["any"] = list(base["target"].get("any") or [])
        if "residency" not in target and "residency" in base["target"]:
            target["residency"] = list(base["target"]["residency"])
        filled["target"] = target
    return filled


def place_of(path: str, places: Mapping[str, str]) -> str:
    """The cell a definition's path was read from: the path's own place, else its nearest parent's (a list's
    entry is in its list's cell), else the path itself (a JSON file's places are its paths)."""
    part = path
    while part:
        if part in places:
            return places[part]
        parent = _LAST_PART.match(part)
        if parent is None:
            break
        part = parent.group(1)
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError:
        raise CampaignSheetError([CellProblem(path.name, "unreadable")]) from None
    except UnicodeDecodeError:
        raise CampaignSheetError([CellProblem(path.name, "json", {"line": 1})]) from None
    except json.JSONDecodeError as error:
        raise CampaignSheetError([CellProblem(path.name, "json", {"line": error.lineno})]) from None
    if not isinstance(data, dict):
        raise CampaignSheetError([CellProblem(path.name, "json", {"line": 1})])
    return data


class _SheetReader:
    """Reads the four sheets into definition data, noting where each part came from (``places``) and every cell
    it cannot read (``problems``)."""

    def __init__(self, roles: Sequence[Label], groups: Sequence[Label]) -> None:
        self.roles = words.label_words(roles)
        self.groups = words.label_words(groups)
        self.problems: list[CellProblem] = []
        self.places: dict[str, str] = {}

    def problem(self, cell: str, key: str, **params: Any) -> None:
        self.problems.append(CellProblem(cell, key, params))

    def read(self, path: Path) -> dict[str, Any]:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        if not path.is_file():
            raise CampaignSheetError([CellProblem(path.name, "unreadable")])
        damaged = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, zlib.error, ParseError)
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except damaged:
            raise CampaignSheetError([CellProblem(path.name, "file_format")]) from None
        try:
            sheets = {name: _rows_of(book[name]) for name in book.sheetnames}
        except damaged:
            raise CampaignSheetError([CellProblem(path.name, "file_format")]) from None
        finally:
            book.close()
        self.places.update(
            {
                "": words.CAMPAIGN_SHEET,
                "target": words.CAMPAIGN_SHEET,
                "target.any": words.TARGET_SHEET,
                "form": words.FORM_SHEET,
                "statuses": words.STATUS_SHEET,
            }
        )
        for part in ("key", "name", "template", "subject", "starts", "ends", "carried_by", "grids"):
            self.places[part] = words.CAMPAIGN_SHEET
        data: dict[str, Any] = {}
        if words.CAMPAIGN_SHEET not in sheets:
            self.problem(words.CAMPAIGN_SHEET, "sheet_missing", sheets="、".join(sheets) or "-")
        else:
            data = self._campaign(sheets[words.CAMPAIGN_SHEET])
        names_template = bool(data.get("template"))
        clauses = self._rows(sheets, words.TARGET_SHEET, words.TARGET_HEADERS, self._clause)
        if clauses:
            data.setdefault("target", {})["any"] = clauses
        for sheet, headers, read, part in (
            (words.FORM_SHEET, words.FORM_HEADERS, self._field, "form"),
            (words.STATUS_SHEET, words.STATUS_HEADERS, self._status, "statuses"),
        ):
            if sheet not in sheets and not names_template:
                self.problem(sheet, "sheet_missing", sheets="、".join(sheets) or "-")
            items = self._rows(sheets, sheet, headers, read)
            if items:
                data[part] = items
        return data

    # --- 活动: one item a row -------------------------------------------------------------------------------

    def _campaign(self, rows: list[list[Any]]) -> dict[str, Any]:
        sheet = words.CAMPAIGN_SHEET
        header = rows[0] if rows else []
        for column, wanted in enumerate((words.ITEM_HEADER, words.VALUE_HEADER)):
            if _text(header[column] if column < len(header) else None) != wanted:
                self.problem(sheet, "header_missing", header=wanted)
        data: dict[str, Any] = {}
        seen: set[str] = set()
        for number, row in enumerate(rows[1:], start=2):
            item = _text(row[0] if row else None)
            value = row[1] if len(row) > 1 else None
            if not item:
                continue
            if item not in words.ITEMS:
                self.problem(f"{sheet}!A{number}", "item_unknown", items="、".join(words.ITEMS))
                continue
            if item in seen:
                self.problem(f"{sheet}!A{number}", "item_twice")
                continue
            seen.add(item)
            part, cell = words.ITEMS[item], f"{sheet}!B{number}"
            self.places[part] = cell
            read = self._item(part, value, cell)
            if read is None:
                continue
            *parents, last = part.split(".")
            into = data
            for parent in parents:
                into = into.setdefault(parent, {})
            into[last] = read
        return data

    def _item(self, part: str, value: Any, cell: str) -> Any:
        if _blank(value):
            return None
        if part in ("starts", "ends"):
            return self._date(value, cell)
        if part == "template":
            text = _text(value)
            if text in TEMPLATES or words.key_of(words.TEMPLATE_WORDS, text) is not None:
                return text
            self.problem(cell, "template", choices=words.choices_text(words.TEMPLATE_WORDS))
            return None
        if part == "subject":
            return self._word(value, words.SUBJECTS, cell)
        tables: dict[str, Table | None] = {
            "carried_by.roles": self.roles,
            "carried_by.groups": self.groups,
            "target.residency": words.RESIDENCY,
            "grids": None,
            "target.buildings": None,
            "target.ids": None,
        }
        if part in tables:
            return self._words(value, tables[part], cell)
        return _text(value)

    # --- 对象规则, 表单, 状态: one entry a row, by header -------------------------------------------------------

    def _rows(
        self,
        sheets: Mapping[str, list[list[Any]]],
        sheet: str,
        headers: Mapping[str, str],
        read: Callable[[dict[str, tuple[Any, str]], str], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        rows = sheets.get(sheet)
        if not rows:
            return []
        columns: dict[int, str] = {}
        for column, header in enumerate(rows[0]):
            name = _text(header)
            cell = f"{sheet}!{_column(column)}1"
            if not name or name in words.IGNORED_HEADERS:
                continue
            if name not in headers:
                self.problem(cell, "header_unknown", headers="、".join(headers))
            elif name in columns.values():
                self.problem(cell, "header_twice")
            else:
                columns[column] = name
        for wanted in words.REQUIRED_HEADERS[sheet]:
            if wanted not in columns.values():
                self.problem(sheet, "header_missing", header=wanted)
        items: list[dict[str, Any]] = []
        prefix = {words.TARGET_SHEET: "target.any", words.FORM_SHEET: "form", words.STATUS_SHEET: "statuses"}[sheet]
        for number, row in enumerate(rows[1:], start=2):
            cells = {
                headers[name]: (row[column], f"{sheet}!{_column(column)}{number}")
                for column, name in columns.items()
                if column < len(row)
            }
            if all(_blank(value) for value, _ in cells.values()):
                continue
            path = f"{prefix}[{len(items) + 1}]"
            self.places[path] = f"{sheet}!A{number}"
            for part, (_, cell) in cells.items():
                self.places[f"{path}.{part}"] = cell
            items.append(read(cells, path))
        return items

    def _clause(self, cells: dict[str, tuple[Any, str]], path: str) -> dict[str, Any]:
        clause: dict[str, Any] = {}
        for part, (value, cell) in cells.items():
            if _blank(value):
                continue
            if part in ("min_age", "max_age"):
                read: Any = self._number(value, cell, whole=True)
            else:
                table = {"groups": words.GROUPS, "isolation": words.ISOLATION}.get(part)
                read = self._words(value, table, cell)
            if read is not None:
                clause[part] = read
        return clause

    def _field(self, cells: dict[str, tuple[Any, str]], path: str) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for part, (value, cell) in cells.items():
            if _blank(value):
                continue
            read: Any
            if part == "type":
                read = self._word(value, words.FIELD_TYPES, cell)
            elif part == "choices":
                read = words.split_words(_text(value))
            elif part in ("min", "max"):
                read = self._number(value, cell, whole=False)
            elif part == "required":
                read = self._word(value, words.YES_NO, cell, key="yes_no")
            else:
                read = _text(value)
            if read is not None:
                item[part] = read
        return item

    def _status(self, cells: dict[str, tuple[Any, str]], path: str) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for part, (value, cell) in cells.items():
            if _blank(value):
                continue
            read: Any
            if part == "counts":
                read = self._word(value, words.COUNTS, cell)
            elif part == "needs_reason":
                read = self._word(value, words.YES_NO, cell, key="yes_no")
            else:
                read = _text(value)
            if read is not None:
                item[part] = read
        return item

    # --- one cell ---------------------------------------------------------------------------------------------

    def _word(self, value: Any, table: Table, cell: str, key: str = "word") -> Any:
        found = words.key_of(table, _text(value))  # an Excel TRUE/FALSE cell reads as True/False: 是/否
        if found is None:
            self.problem(cell, key, choices=words.choices_text(table))
        return found

    def _words(self, value: Any, table: Table | None, cell: str) -> list[Any] | None:
        parts = words.split_words(_text(value))
        if table is None:
            return parts
        found = [words.key_of(table, part) for part in parts]
        if any(key is None for key in found):
            self.problem(cell, "words", choices=words.choices_text(table))
            return None
        return found

    def _number(self, value: Any, cell: str, *, whole: bool) -> int | float | None:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or number != number:  # NaN
            self.problem(cell, "whole" if whole else "number")
            return None
        if number.is_integer():
            return int(number)
        if whole:
            self.problem(cell, "whole")
            return None
        return number

    def _date(self, value: Any, cell: str) -> str | None:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        found = _DATE_TEXT.match(_text(value)) if isinstance(value, str) else None
        if found is None:
            self.problem(cell, "date")
            return None
        year, month, day = (int(part) for part in found.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"  # an unreal one (2026-02-30) is parse_campaign's to name


def _rows_of(sheet: Any) -> list[list[Any]]:
    """A sheet's rows as values, up to its last filled one. The ``<dimension>`` a file declares may be wrong (some
    writers leave A1, and read-only mode would stop at row 1), so every row is read; a run of ``BLANK_RUN`` empty
    rows ends the sheet (a column formatted to the bottom would otherwise be a million rows)."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    rows: list[list[Any]] = []
    blank = 0
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        blank = blank + 1 if all(_blank(v) for v in values) else 0
        if blank >= BLANK_RUN:
            break
        rows.append(values)
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    return rows


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    """A cell as text: a whole number without ``.0`` (a code typed as 2026 is ``2026``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
