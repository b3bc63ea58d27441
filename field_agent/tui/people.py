"""What the screens show about a person: masked or revealed ID number, derived age/sex, special groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from field_agent.domain import groups
from field_agent.domain.enums import RECORDED_GROUPS, SPECIAL_GROUPS
from field_agent.domain.errors import IdNumberError
from field_agent.domain.idnumber import mask_id_number, parse_id_number


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The live verdict on a typed ID number: derived facts when valid, the reason code when not."""

    valid: bool
    age: int | None = None
    sex: str | None = None
    birth_date: date | None = None
    reason: str | None = None
    message: str = ""


def check_id_number(text: str, today: date) -> IdCheck:
    try:
        parsed = parse_id_number(text, today)
    except IdNumberError as error:
        return IdCheck(False, reason=error.reason, message=str(error))
    return IdCheck(True, age=parsed.age_on(today), sex=parsed.sex, birth_date=parsed.birth_date)


def shown_id(id_number: str | None, revealed: bool) -> str:
    """The ID number as the screen shows it: masked unless the worker asked to reveal it."""
    if not id_number:
        return ""
    return id_number if revealed else mask_id_number(id_number)


def age_and_sex(resident: dict[str, Any], today: date) -> tuple[int | None, str | None]:
    check = check_id_number(resident.get("id_number") or "", today)
    return check.age, check.sex


def special_groups(resident: dict[str, Any], today: date) -> list[str]:
    """Recorded and derived special groups of a resident, in the catalog's order."""
    found = groups.special_groups(resident, today)
    return [group for group in SPECIAL_GROUPS if group in found]


def sampling_reasons(resident: dict[str, Any], today: date) -> list[str]:
    """Why a resident gets home sampling (empty when not eligible), by the town's default rule."""
    if not _might_be_eligible(resident, today):
        return []
    return groups.DEFAULT_ELIGIBILITY.reasons(resident, today)


_RULE = groups.DEFAULT_ELIGIBILITY
_AGE_GROUPS = {"very_old", "infant", "elderly"} & set(_RULE.groups)


def _might_be_eligible(resident: Mapping[str, Any], today: date) -> bool:
    """A cheap, conservative pre-check: False only when the rule certainly says no (most residents).

    Parsing and checksumming every ID number of a big grid is the slow part of the coverage count; an age
    group can only apply when the birth year in the number puts the resident near one of the age limits.
    """
    if resident.get("residency") in _RULE.excluded_residency:
        return False
    if set(resident.get("special_groups") or ()) & _RULE.groups:
        return True
    if _RULE.home_isolation and resident.get("isolation_status") == "home":
        return True
    if not _AGE_GROUPS:
        return False
    number = resident.get("id_number")
    if not isinstance(number, str) or len(number) != 18 or not number[6:10].isdigit():
        return True
    years = today.year - int(number[6:10])  # the age this year, or one more than it
    oldest_limit = groups.ELDERLY_AGE if "elderly" in _AGE_GROUPS else groups.VERY_OLD_AGE
    old = bool({"elderly", "very_old"} & _AGE_GROUPS) and years >= oldest_limit
    young = "infant" in _AGE_GROUPS and years <= groups.INFANT_UNDER
    return old or young


def eligible_from_fields(fields: Mapping[str, Any], sets: Mapping[str, Any], today: date) -> bool:
    """Whether a stored resident (an envelope's registers and sets) is eligible for home sampling, parsing the ID
    number only when the answer hangs on an age near a limit; the verdict of ``sampling_reasons`` (tests hold them
    together). Runs for every resident when Today is shown, so the common "no" comes first and cheap."""
    if fields.get("residency") in _RULE.excluded_residency or fields.get("_deleted"):
        return False
    if _RULE.home_isolation and fields.get("isolation_status") == "home":
        return True
    recorded = sets.get("special_groups")
    if recorded and any(present for group, (_, present) in recorded.items() if group in _RECORDED_ELIGIBLE):
        return True
    if not _AGE_GROUPS:
        return False
    number = fields.get("id_number")
    if number.__class__ is not str:
        return False
    if len(number) == 18 and number[6:10].isdigit():
        years = today.year - int(number[6:10])  # the age this year, or one more than it
        if _YOUNGEST_OLD_LIMIT > years > groups.INFANT_UNDER:
            return False
    return not _AGE_GROUPS.isdisjoint(groups.derived_groups(groups.resident_age(fields, today)))


_RECORDED_ELIGIBLE = frozenset(RECORDED_GROUPS) & _RULE.groups
_YOUNGEST_OLD_LIMIT = groups.ELDERLY_AGE if "elderly" in _AGE_GROUPS else groups.VERY_OLD_AGE
