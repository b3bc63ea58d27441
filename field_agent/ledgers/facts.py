"""What the ledgers derive about a person: facts from the ID number, special groups, home-sampling eligibility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from field_agent.domain import groups as domain_groups
from field_agent.domain.errors import IdNumberError
from field_agent.domain.groups import EligibilityRule
from field_agent.domain.idnumber import IdNumber, parse_id_number
from field_agent.domain.idnumber import age_on as _age_on


def holder(id_number: object) -> IdNumber | None:
    """What a valid ID number says about its holder; None for a missing or malformed one."""
    if not isinstance(id_number, str) or not id_number:
        return None
    return _parsed(id_number)


@lru_cache(maxsize=200_000)
def _parsed(id_number: str) -> IdNumber | None:
    # a town's ledgers and overview look at each resident several times; the checksum is the costly part
    try:
        return parse_id_number(id_number)
    except IdNumberError:
        return None


def birth_date(id_number: object) -> dt.date | None:
    found = holder(id_number)
    return found.birth_date if found else None


def age_on(born: dt.date | None, today: dt.date) -> int | None:
    return _age_on(born, today) if born is not None else None


def sex(id_number: object) -> str | None:
    """'male' or 'female' from the ID number's order code."""
    found = holder(id_number)
    return found.sex if found else None


def special_groups(resident: Mapping[str, Any], today: dt.date) -> list[str]:
    """The domain's special groups of a resident (``domain.groups.groups_from``), sorted; the ID number parsed once."""
    found = holder(resident.get("id_number"))
    age = found.age_on(today) if found else None
    return sorted(domain_groups.groups_from(resident.get("special_groups") or (), age))


def home_sampling_reasons(
    resident: Mapping[str, Any], groups: list[str], rule: EligibilityRule | None = None
) -> list[str]:
    """Why a resident in ``groups`` is sampled at home under the domain's rule (its default unless given); empty
    when they are not. The same answer as ``rule.reasons(resident, today)``, without parsing the ID number again.
    """
    return (rule or domain_groups.DEFAULT_ELIGIBILITY).reasons_in(resident, groups)
