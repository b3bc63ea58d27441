"""Parse a roster (.xlsx/.csv): map its Chinese headers, check every row with the domain rules, report bad rows.

``parse_roster(path)`` returns the good rows and every problem (line, column, reason); it writes nothing, so the
device (``field-agent import``) and the town server (``field-server roster import``) share it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from field_agent.domain.errors import DomainError, ValidationError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.validation import normalize_values, validate_record
from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.roster_headers import (
    GROUP_WORDS,
    RESIDENCY_WORDS,
    SEX_WORDS,
    compose_address,
    describe_known_headers,
    falsy,
    field_for_header,
    household_key,
    split_address,
    strip_suffix,
    truthy,
    written_birth,
)
from field_agent.ledgers.sheets import Sheet, read_sheet

HEADER_SCAN_ROWS = 10
PLACEHOLDER_ID = "00000000-0000-7000-8000-000000000000"
RESIDENT_FIELDS = ("name", "id_number", "phone", "residency", "special_groups", "notes")
HOUSEHOLD_FIELDS = ("building", "unit", "room", "address")
NUMERIC_ID_REASON = (
    "the ID number is stored as a number, which keeps only 15 digits, so it cannot be trusted even when it looks "
    "valid: format the column as text and type the number again, or copy it from the original source"
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: the spreadsheet line, the column (letter and header) and the reason."""

    line: int
    column: str
    header: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column} ({self.header})" if self.column else "")
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "header": self.header, "reason": self.reason}


@dataclass
class RosterRow:
    """One good row: the resident's values, their household's address, and whether they head it."""

    line: int
    resident: dict[str, object]
    household: dict[str, str]
    head_name: str | None = None

    @property
    def household_key(self) -> tuple[str, ...]:
        return household_key(self.household)

    @property
    def special_groups(self) -> list[str]:
        """The resident's special groups (a new list; empty when the row names none)."""
        groups = self.resident.get("special_groups")
        return [str(group) for group in groups] if isinstance(groups, list) else []


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> header as written
    ignored_headers: list[str] = field(default_factory=list)
    header_line: int = 0
    encoding: str | None = None


def parse_roster(path: Path) -> ParsedRoster:
    """Read and check a roster file; raise RosterFileError when it cannot be read as a roster at all."""
    sheet = read_sheet(Path(path))
    first, last = _find_header_block(sheet, Path(path).name)
    sheet.fill_merges(from_row=last + 1)
    headers = _block_headers(sheet, first, last)
    columns: dict[str, int] = {}
    result = ParsedRoster(header_line=last, encoding=sheet.encoding)
    for col, header in enumerate(headers, start=1):
        name = field_for_header(header)
        if name is None or name in columns:
            if header:
                result.ignored_headers.append(header)
            continue
        columns[name] = col
        result.columns[name] = header
    _require_columns(columns, Path(path).name)
    seen_ids: dict[str, int] = {}
    for line in range(last + 1, len(sheet.rows) + 1):
        if not any(sheet.rows[line - 1]):
            continue
        row, errors = _parse_row(sheet, line, columns, headers)
        number = row.resident.get("id_number") if row else None
        if isinstance(number, str) and number in seen_ids:
            col = columns["id_number"]
            errors.append(_error(line, col, headers, f"same ID number as line {seen_ids[number]}"))
        elif isinstance(number, str) and not errors:
            seen_ids[number] = line
        if errors:
            result.errors.extend(errors)
        elif row is not None:
            result.rows.append(row)
    return result


def _find_header_block(sheet: Sheet, name: str) -> tuple[int, int]:
    """The first and last row of the header: one row, or two when merged cells make a two-level header."""
    for row in range(1, min(len(sheet.rows), HEADER_SCAN_ROWS) + 1):
        fields = {field_for_header(cell) for cell in sheet.rows[row - 1]}
        below = {field_for_header(cell) for cell in (sheet.rows[row] if row < len(sheet.rows) else [])}
        known = (fields | below) - {None}
        if not ({"name", "id_number"} & fields) or len(known) < 3:
            continue
        merged = [m for m in sheet.merges if m.min_row == row]
        deeper = max((m.max_row for m in merged), default=row)
        wide = [m for m in merged if m.max_row == row and m.max_col > m.min_col]
        if deeper == row and wide:
            under = [field_for_header(sheet.cell(row + 1, c)) for m in wide for c in range(m.min_col, m.max_col + 1)]
            if any(under):
                deeper = row + 1
            else:
                m = wide[0]
                span = f"{get_column_letter(m.min_col)}{row}:{get_column_letter(m.max_col)}{row}"
                raise RosterFileError(
                    f"{name}: header {sheet.cell(row, m.min_col)!r} is one merged cell over {span}; unmerge it and "
                    "give each column its own header (e.g. 楼栋, 单元, 房号)"
                )
        if deeper - row > 1:
            raise RosterFileError(
                f"{name}: the header spans rows {row}-{deeper}; use one header row (or two under merged cells)"
            )
        return row, deeper
    raise RosterFileError(
        f"{name}: no header row with 姓名 and 身份证号 in the first {HEADER_SCAN_ROWS} rows; "
        f"recognised headers are {describe_known_headers()}"
    )


def _block_headers(sheet: Sheet, first: int, last: int) -> list[str]:
    """Each column's header: the lowest text in the header block, merged cells spread over what they cover."""
    width = max(len(sheet.rows[r - 1]) for r in range(first, last + 1))
    width = max([width] + [m.max_col for m in sheet.merges if m.min_row <= last and m.max_row >= first])
    headers = []
    for col in range(1, width + 1):
        header = ""
        for row in range(first, last + 1):
            text = sheet.cell(row, col)
            if not text:
                covering = next((m for m in sheet.merges if m.contains(row, col)), None)
                text = sheet.cell(covering.min_row, covering.min_col) if covering else ""
            if text and (field_for_header(text) is not None or not header):
                header = text
        headers.append(header)
    return headers


def _require_columns(columns: dict[str, int], name: str) -> None:
    missing = [label for key, label in (("name", "姓名"), ("id_number", "身份证号")) if key not in columns]
    if missing:
        raise RosterFileError(
            f"{name}: no {'/'.join(missing)} column; recognised headers are {describe_known_headers()}"
        )
    if not {"building", "room", "address"} & set(columns):
        raise RosterFileError(f"{name}: no address columns; give 住址, or 楼栋/单元/房号")


def _error(line: int, col: int | None, headers: list[str], reason: str) -> RowError:
    if col is None:
        return RowError(line, "", "", reason)
    return RowError(line, get_column_letter(col), headers[col - 1], reason)


def _parse_row(
    sheet: Sheet, line: int, columns: dict[str, int], headers: list[str]
) -> tuple[RosterRow | None, list[RowError]]:
    def value(name: str) -> str:
        # NFKC: full-width digits and letters typed with a Chinese input method (３５０１…, ８栋) and ideographic
        # spaces become their plain forms before any rule sees them
        return unicodedata.normalize("NFKC", sheet.cell(line, columns[name])).strip() if name in columns else ""

    errors: list[RowError] = []
    reported: set[str] = set()
    resident: dict[str, object] = {"name": value("name"), "id_number": value("id_number")}
    if value("phone"):
        resident["phone"] = value("phone")
    if value("notes"):
        resident["notes"] = value("notes")
    residency = value("residency")
    resident["residency"] = RESIDENCY_WORDS.get(residency, residency) if residency else "resident"
    if residency and residency not in RESIDENCY_WORDS:
        errors.append(
            _error(line, columns["residency"], headers, f"unknown 人员类别 {residency!r}; use 常住, 流动 or 外出")
        )
        reported.add("residency")
    groups, unknown = _groups(value("special_groups"))
    if unknown:
        errors.append(
            _error(
                line,
                columns["special_groups"],
                headers,
                f"unknown special group {unknown!r}; use 慢性病, 残疾, 卧床 or 孕产妇",
            )
        )
        reported.add("special_groups")
    if groups:
        resident["special_groups"] = groups
    household = {name: strip_suffix(name, value(name)) for name in ("building", "unit", "room") if value(name)}
    if value("address"):
        household["address"] = value("address")
        for name, part in split_address(value("address")).items():
            household.setdefault(name, part)
    if household and "address" not in household:
        household["address"] = compose_address(household)
    if not household:
        errors.append(_error(line, columns.get("address") or columns.get("building"), headers, "no address"))
    if "id_number" in columns and (line, columns["id_number"]) in sheet.numeric_cells:
        # A spreadsheet number keeps 15 significant digits: an 18-digit ID number in a numeric cell has lost its last
        # digits, and about 1 in 11 of the rounded numbers still passes the check digit as somebody else's number.
        errors.append(_error(line, columns["id_number"], headers, NUMERIC_ID_REASON))
        reported.add("id_number")
    resident = normalize_values("resident", resident)
    if "id_number" not in reported:
        errors.extend(_cross_check(line, str(resident.get("id_number") or ""), value, columns, headers))
    checked = {k: v for k, v in resident.items() if k not in reported}
    resident_errors = _validate(line, "resident", {**checked, "household": PLACEHOLDER_ID}, columns, headers, sheet)
    if "id_number" in reported:  # refused above, whatever the rules say of its digits
        resident_errors = [e for e in resident_errors if e.column != get_column_letter(columns["id_number"])]
    errors.extend(resident_errors)
    if household:
        errors.extend(_validate(line, "household", household, columns, headers, sheet))
    head_name = _head(value, resident)
    if errors:
        errors.sort(key=lambda e: (len(e.column), e.column))
        return None, errors
    return RosterRow(line=line, resident=resident, household=household, head_name=head_name), []


def _cross_check(line: int, number: str, value, columns: dict[str, int], headers: list[str]) -> list[RowError]:
    """性别 and 出生日期 columns against what a valid ID number says (the reason names neither value)."""
    try:
        holder = parse_id_number(number)
    except DomainError:
        return []  # an invalid ID number is reported by the rules
    found = []
    sex = value("sex").lower()
    if sex and SEX_WORDS.get(sex, holder.sex) != holder.sex:
        found.append(_error(line, columns["sex"], headers, "性别 does not match the sex the ID number gives"))
    if value("birth_date"):
        written = written_birth(value("birth_date"))
        born = holder.birth_date
        if written is None:
            found.append(_error(line, columns["birth_date"], headers, "出生日期 is not a date (write 1980-09-01)"))
        elif written[:2] != (born.year, born.month) or written[2] not in (None, born.day):
            found.append(_error(line, columns["birth_date"], headers, "出生日期 does not match the ID number's"))
    return found


def _groups(text: str) -> tuple[list[str], str | None]:
    groups: set[str] = set()
    for word in (w for w in re.split(r"[、,，;；/\s]+", text) if w):
        if word not in GROUP_WORDS:
            return sorted(groups), word
        group = GROUP_WORDS[word]
        if group:
            groups.add(group)
    return sorted(groups), None


def _head(value, resident: dict[str, object]) -> str | None:
    """The household head's name, when the row says who it is (户主姓名, 是否户主 or 与户主关系)."""
    written = value("head_name")
    if written and (truthy(written) or falsy(written)):  # a 户主 column holding 是/否 says whether this row is it
        return str(resident["name"]) if truthy(written) else None
    if written:
        return written
    if value("is_head") and truthy(value("is_head")):
        return str(resident["name"])
    if value("relation") in ("本人", "户主"):
        return str(resident["name"])
    return None


def _validate(
    line: int, kind: str, values: Mapping[str, object], columns: dict[str, int], headers: list[str], sheet: Sheet
) -> list[RowError]:
    try:
        validate_record(kind, values)
    except ValidationError as error:
        found = []
        for problem in error.errors:
            if problem.field not in values and problem.field in ("residency", "special_groups"):
                continue  # already reported from the cell's own word
            col = columns.get(problem.field) or (columns.get("address") if kind == "household" else None)
            reason = problem.message
            found.append(_error(line, col, headers, reason if col else f"{problem.field} {reason}"))
        return found
    return []
