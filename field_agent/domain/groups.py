"""Special groups (老弱病残孕幼): derived from the ID number or recorded, and who is eligible for home sampling."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from field_agent.domain.enums import RECORDED_GROUPS, SAMPLING_DONE_STATUSES, SPECIAL_GROUPS
from field_agent.domain.errors import ConfigError, IdNumberError
from field_agent.domain.idnumber import age_on, parse_id_number

ELDERLY_AGE = 60
VERY_OLD_AGE = 80
INFANT_UNDER = 3


def resident_age(resident: Mapping[str, Any], today: date) -> int | None:
    """Age in completed years from the resident's ID number, or None when it is missing or invalid."""
    number = resident.get("id_number")
    if not isinstance(number, str):
        return None
    try:
        holder = parse_id_number(number, today)
    except IdNumberError:
        return None
    return age_on(holder.birth_date, today)


def derived_groups(age: int | None) -> set[str]:
    """The groups an age puts someone in: elderly (60+), very_old (80+), infant (under 3)."""
    if age is None:
        return set()
    groups = set()
    if age >= ELDERLY_AGE:
        groups.add("elderly")
    if age >= VERY_OLD_AGE:
        groups.add("very_old")
    if age < INFANT_UNDER:
        groups.add("infant")
    return groups


def special_groups(resident: Mapping[str, Any], today: date) -> set[str]:
    """Every special group a resident (a flat record view) belongs to on ``today``."""
    recorded = {g for g in resident.get("special_groups") or () if g in RECORDED_GROUPS}
    return recorded | derived_groups(resident_age(resident, today))


DEFAULT_ELIGIBLE_GROUPS = frozenset({"very_old", "bedridden", "disabled", "chronic", "pregnant", "infant"})


@dataclass(frozen=True)
class EligibilityRule:
    """Who gets home sampling: members of ``groups``, plus (by default) everyone in home isolation.

    Residents whose residency is in ``excluded_residency`` (by default ``away``: registered here, living elsewhere)
    are never eligible: there is nobody at home to sample.
    """

    groups: frozenset[str] = DEFAULT_ELIGIBLE_GROUPS
    home_isolation: bool = True
    excluded_residency: frozenset[str] = field(default_factory=lambda: frozenset({"away"}))

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(SPECIAL_GROUPS)
        if unknown:
            raise ConfigError(
                f"eligibility names unknown group(s) {', '.join(sorted(unknown))}; "
                f"special groups are {', '.join(SPECIAL_GROUPS)}"
            )

    def reasons(self, resident: Mapping[str, Any], today: date) -> list[str]:
        """Why a resident is eligible (group keys, plus ``home_isolation``), empty when they are not."""
        if resident.get("_deleted") or resident.get("residency") in self.excluded_residency:
            return []
        reasons = sorted(special_groups(resident, today) & self.groups)
        if self.home_isolation and resident.get("isolation_status") == "home":
            reasons.append("home_isolation")
        return reasons

    def is_eligible(self, resident: Mapping[str, Any], today: date) -> bool:
        return bool(self.reasons(resident, today))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EligibilityRule:
        """Read a town's rule (JSON-shaped); anything left out keeps its default."""
        return cls(
            groups=frozenset(data.get("groups", DEFAULT_ELIGIBLE_GROUPS)),
            home_isolation=bool(data.get("home_isolation", True)),
            excluded_residency=frozenset(data.get("excluded_residency", ("away",))),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": sorted(self.groups),
            "home_isolation": self.home_isolation,
            "excluded_residency": sorted(self.excluded_residency),
        }


DEFAULT_ELIGIBILITY = EligibilityRule()


def nobody_left_out(
    residents: Iterable[Mapping[str, Any]],
    samplings: Iterable[Mapping[str, Any]],
    round_id: str,
    today: date,
    rule: EligibilityRule = DEFAULT_ELIGIBILITY,
) -> list[Mapping[str, Any]]:
    """Eligible residents with no sampled or exempt entry in the round (应检尽检, 不漏一人)."""
    done = {
        s.get("resident")
        for s in samplings
        if s.get("round") == round_id and s.get("status") in SAMPLING_DONE_STATUSES and not s.get("_deleted")
    }
    return [r for r in residents if r.get("id") not in done and rule.is_eligible(r, today)]
