"""One roster row read and checked: its cells through the words table and the domain's rules, giving the
resident's values and household, or every problem with the row."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from field_agent.domain.errors import DomainError, ValidationError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.redact import redact_text
from field_agent.domain.validation import normalize_values, validate_record
from field_agent.ledgers.roster_headers import (
    HEADER_ALIASES,
    SEX_WORDS,
    compose_address,
    falsy,
    household_key,
    split_address,
    strip_suffix,
    truthy,
    written_birth,
)
from field_agent.ledgers.roster_layout import Layout
from field_agent.ledgers.roster_values import read_categories, split_phones, words_of
from field_agent.ledgers.roster_words import RosterWords, word_key
from field_agent.ledgers.row_errors import DOMAIN_PREFIX, RowError
from field_agent.ledgers.sheets import Sheet

PLACEHOLDER_ID = "00000000-0000-7000-8000-000000000000"
CATEGORY_FIELDS = ("special_groups", "tags", "disability")
# where a problem with a stored field is shown when the roster has no column of that name
SHOWN_IN = {
    "phone2": ("phone2", "phone"),
    "tags": ("tags", "special_groups", "disability"),
    "notes": ("notes", *CATEGORY_FIELDS),
}


@dataclass
class RosterRow:
    """One good row: the resident's values, their household's address, and whether they head it."""

    line: int
    resident: dict[str, object]
    household: dict[str, str]
    head_name: str | None = None
    sheet: str = ""
    assumed: tuple[str, ...] = ()  # fields the row does not give: their values are for a new resident only

    @property
    def household_key(self) -> tuple[str, ...]:
        return household_key(self.household)

    @property
    def special_groups(self) -> list[str]:
        """The resident's special groups (a new list; empty when the row names none)."""
        return self._set("special_groups")

    @property
    def tags(self) -> list[str]:
        """The resident's tags (独居老人, 低保户, …; a new list)."""
        return self._set("tags")

    def _set(self, name: str) -> list[str]:
        items = self.resident.get(name)
        return [str(item) for item in items] if isinstance(items, list) else []


class RowReader:
    """Reads the rows of one sheet laid out as ``layout``."""

    def __init__(self, sheet: Sheet, layout: Layout, words: RosterWords, residency: str = "resident") -> None:
        self.sheet = sheet
        self.layout = layout
        self.words = words
        self.residency = residency  # a row's residency when it gives none (the sheet's title may say: 流动人口台账)

    def value(self, line: int, name: str) -> str:
        """A cell of a field, NFKC-normalised (full-width ３５０１…, ８栋 and ideographic spaces are plain), trimmed."""
        col = self.layout.columns.get(name)
        return unicodedata.normalize("NFKC", self.sheet.cell(line, col)).strip() if col else ""

    def error(self, line: int, name: str | None, code: str, **params: Any) -> RowError:
        """A problem in the column of field ``name`` (or of the field it is shown in), or the whole row."""
        col = None
        for candidate in SHOWN_IN.get(name or "", (name,)) if name else ():
            col = self.layout.columns.get(candidate or "")
            if col:
                break
        if col is not None:
            header = self.layout.headers[col - 1]
            return RowError(line, get_column_letter(col), header, code, params, self.sheet.name)
        label = HEADER_ALIASES[name][0] if name in HEADER_ALIASES else (name or "")
        return RowError(line, "", label, code, params, self.sheet.name)

    def read(self, line: int) -> tuple[RosterRow | None, list[RowError]]:
        errors: list[RowError] = []
        reported: set[str] = set()
        resident: dict[str, object] = {"name": self.value(line, "name"), "id_number": self.value(line, "id_number")}
        errors += self._phones(line, resident, reported)
        assumed: list[str] = []
        errors += self._categories(line, resident, reported, assumed)
        household = self._household(line)
        if not household:
            errors.append(
                self.error(line, "address" if "address" in self.layout.columns else "building", "row.no_address")
            )
        columns = self.layout.columns
        if (line, columns["id_number"]) in self.sheet.numeric_cells:
            # A spreadsheet number keeps 15 significant digits: an 18-digit ID number in a numeric cell has lost its
            # last digits, and about 1 in 11 of the rounded numbers still passes the check digit as somebody else's.
            errors.append(self.error(line, "id_number", "row.numeric_id"))
            reported.add("id_number")
        if not resident["id_number"]:
            del resident["id_number"]  # said as 必填, not as a number of no digits
        resident = normalize_values("resident", resident)
        if "id_number" not in reported:
            errors += self._cross_check(line, str(resident.get("id_number") or ""))
        checked = {k: v for k, v in resident.items() if k not in reported}
        errors += self._validate(line, "resident", {**checked, "household": PLACEHOLDER_ID}, reported)
        if household:
            errors += self._validate(line, "household", household, reported)
        if errors:
            errors.sort(key=lambda e: (len(e.column), e.column))
            return None, errors
        head = self._head(line, resident)
        return RosterRow(line, resident, household, head, self.sheet.name, tuple(assumed)), []

    def _phones(self, line: int, resident: dict[str, object], reported: set[str]) -> list[RowError]:
        """One or two numbers from the phone cell (and a second-phone column): ``phone`` and ``phone2``."""
        found: list[str] = []
        for text in (self.value(line, "phone"), self.value(line, "phone2")):
            for phone in split_phones(text):
                if re.sub(r"\D", "", phone) not in {re.sub(r"\D", "", p) for p in found}:
                    found.append(phone)
        if len(found) > 2:
            reported.update(("phone", "phone2"))
            return [self.error(line, "phone", "row.too_many_phones", count=len(found))]
        for name, phone in zip(("phone", "phone2"), found, strict=False):
            resident[name] = phone
        return []

    def _categories(
        self, line: int, resident: dict[str, object], reported: set[str], assumed: list[str]
    ) -> list[RowError]:
        """特殊人群, 标签 and 残疾类别 through the words table; the residency column (人员类别) by its own words."""
        errors = []
        cells = {name: self.value(line, name) for name in CATEGORY_FIELDS if self.value(line, name)}
        found = read_categories(list(cells.values()), self.words)
        if found.unknown is not None:
            where = next((n for n, text in cells.items() if found.unknown in words_of(text)), "special_groups")
            errors.append(self.error(line, where, "row.unknown_word", word=redact_text(found.unknown)))
            reported.update(("special_groups", "tags"))
        if found.groups:
            resident["special_groups"] = sorted(found.groups)
        if found.tags:
            resident["tags"] = sorted(found.tags)
        written = self.value(line, "residency")
        if written and word_key(written) not in self.words.residency:
            errors.append(self.error(line, "residency", "row.unknown_residency", word=redact_text(written)))
            reported.add("residency")
        residency = self.words.residency.get(word_key(written)) if written else found.residency
        if residency is None:
            assumed.append("residency")
        resident["residency"] = residency or self.residency
        notes = [text for text in (self.value(line, "notes"), *found.notes) if text]
        if notes:
            resident["notes"] = "\n".join(notes)
        return errors

    def _household(self, line: int) -> dict[str, str]:
        value = self.value
        household = {name: strip_suffix(name, value(line, name)) for name in ("building", "unit", "room")}
        household = {name: part for name, part in household.items() if part}
        if value(line, "address"):
            household["address"] = value(line, "address")
            for name, part in split_address(value(line, "address")).items():
                household.setdefault(name, part)
        if household and "address" not in household:
            household["address"] = compose_address(household)
        return household

    def _cross_check(self, line: int, number: str) -> list[RowError]:
        """性别 and 出生日期 columns against what a valid ID number says (the reason names neither value)."""
        try:
            holder = parse_id_number(number)
        except DomainError:
            return []  # an invalid ID number is reported by the rules
        found = []
        sex = self.value(line, "sex").lower()
        if sex and SEX_WORDS.get(sex, holder.sex) != holder.sex:
            found.append(self.error(line, "sex", "row.sex_mismatch"))
        if self.value(line, "birth_date"):
            written = written_birth(self.value(line, "birth_date"))
            born = holder.birth_date
            if written is None:
                found.append(self.error(line, "birth_date", "row.birth_not_date"))
            elif written[:2] != (born.year, born.month) or written[2] not in (None, born.day):
                found.append(self.error(line, "birth_date", "row.birth_mismatch"))
        return found

    def _head(self, line: int, resident: dict[str, object]) -> str | None:
        """The household head's name, when the row says who it is (户主姓名, 是否户主 or 与户主关系)."""
        written = self.value(line, "head_name")
        if written and (truthy(written) or falsy(written)):  # a 户主 column holding 是/否 says whether this row is it
            return str(resident["name"]) if truthy(written) else None
        if written:
            return written
        if self.value(line, "is_head") and truthy(self.value(line, "is_head")):
            return str(resident["name"])
        if self.value(line, "relation") in ("本人", "户主"):
            return str(resident["name"])
        return None

    def _validate(self, line: int, kind: str, values: Mapping[str, object], reported: set[str]) -> list[RowError]:
        try:
            validate_record(kind, values)
        except ValidationError as error:
            found = []
            for problem in error.errors:
                if problem.field in reported and kind == "resident":
                    continue  # refused above from the cell's own words, whatever the rules say of it
                if problem.field not in values and problem.field in ("residency", "special_groups"):
                    continue
                name = problem.field
                if kind == "household" and name not in self.layout.columns:
                    name = "address" if "address" in self.layout.columns else "building"
                if problem.key:
                    found.append(self.error(line, name, DOMAIN_PREFIX + problem.key, **problem.params))
                else:
                    found.append(self.error(line, name, "domain", text=problem.message))
            return found
        return []
