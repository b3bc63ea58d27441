"""What the screens show about a person: masked or revealed ID number, derived age/sex, special groups."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from field_agent.domain import groups
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
    """Recorded and derived special groups of a resident, in the order screens list them (both from the domain)."""
    return groups.in_screen_order(groups.special_groups(resident, today))


def sampling_reasons(
    resident: dict[str, Any], today: date, rule: groups.EligibilityRule = groups.DEFAULT_ELIGIBILITY
) -> list[str]:
    """Why a resident gets home sampling (empty when not eligible), by ``rule`` (the town configuration's in force:
    ``Session.eligibility``)."""
    if not rule.might_be_eligible(resident, today):
        return []
    return rule.reasons(resident, today)


def eligible_from_fields(
    fields: Mapping[str, Any],
    sets: Mapping[str, Any],
    today: date,
    rule: groups.EligibilityRule = groups.DEFAULT_ELIGIBILITY,
) -> bool:
    """Whether a stored resident (an envelope's registers and sets) is eligible for home sampling by ``rule``; the
    verdict of ``sampling_reasons`` (tests hold them together)."""
    return stored_eligibility(today, rule)(fields, sets)


def projected_eligibility(
    today: date, rule: groups.EligibilityRule = groups.DEFAULT_ELIGIBILITY
) -> Callable[[Mapping[str, Any], Iterable[str]], bool]:
    """``stored_eligibility`` for a resident's projected fields (``RecordIndex.projection``) and recorded groups
    (``RecordIndex.recorded_groups``): what Today counts every resident with, without unpacking any."""
    return rule.split_checker(today)


def stored_eligibility(
    today: date, rule: groups.EligibilityRule = groups.DEFAULT_ELIGIBILITY
) -> Callable[[Mapping[str, Any], Mapping[str, Any]], bool]:
    """``eligible_from_fields`` on ``today`` for a whole grid (Today counts every resident with it): the domain's
    rule decides, and parses an ID number only when its birth year is near an age limit."""
    eligible = projected_eligibility(today, rule)

    def check(fields: Mapping[str, Any], sets: Mapping[str, Any]) -> bool:
        recorded = sets.get("special_groups")
        return eligible(fields, [group for group, (_, on) in recorded.items() if on] if recorded else ())

    return check
