"""Special groups (老弱病残孕幼): derived from the ID number or recorded, and who is eligible for home sampling."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def birth_year_groups(id_number: object, today: date) -> set[str] | None:
    """The age groups the birth year in an 18-character ID number allows on ``today``, without checking the number.

    A cheap superset of ``derived_groups``: the holder is either ``today.year - birth year`` or one less. None when
    the number shows no birth year (then only ``resident_age`` can tell).
    """
    if not isinstance(id_number, str) or len(id_number) != 18 or not id_number[6:10].isdigit():
        return None
    years = today.year - int(id_number[6:10])  # the age this year, or one more than it
    possible = set()  # derived_groups(years) | derived_groups(years - 1), without building three sets
    if years >= ELDERLY_AGE:
        possible.add("elderly")
    if years >= VERY_OLD_AGE:
        possible.add("very_old")
    if years - 1 < INFANT_UNDER:
        possible.add("infant")
    return possible


def groups_from(recorded: Iterable[object], age: int | None) -> set[str]:
    """A resident's special groups: the recorded ones a worker may record (anything else ignored) and those the
    age puts them in."""
    return {g for g in recorded if g in RECORDED_GROUPS} | derived_groups(age)


def special_groups(resident: Mapping[str, Any], today: date) -> set[str]:
    """Every special group a resident (a flat record view) belongs to on ``today``."""
    return groups_from(resident.get("special_groups") or (), resident_age(resident, today))


LEDGER_ORDER = ("very_old", "elderly", "chronic", "disabled", "bedridden", "pregnant", "infant")
"""The order the printed ledgers list special groups in (screens and forms use ``enums.SPECIAL_GROUPS``)."""

IMPLIED_BY = {"elderly": "very_old"}
"""A group a more specific one implies: someone 80 or over is 60 or over too, and is named only 80岁以上高龄."""


def most_specific(groups: Iterable[str]) -> set[str]:
    """The groups a person is shown in: one age group each, the most specific (80+ is 高龄, not also 60+).

    Membership is unchanged (``special_groups`` still holds both, so a town's rule naming ``elderly`` covers
    everyone 60 or over); only what screens, ledgers and reasons list drops the implied group."""
    found = set(groups)
    return {group for group in found if IMPLIED_BY.get(group) not in found}


def in_screen_order(groups: Iterable[str]) -> list[str]:
    """The groups to show (``most_specific``) in the order screens and forms list them (``enums.SPECIAL_GROUPS``);
    unknown keys dropped."""
    found = most_specific(groups)
    return [group for group in SPECIAL_GROUPS if group in found]


def in_ledger_order(groups: Iterable[str]) -> list[str]:
    """The groups to show (``most_specific``) in the order the ledgers print them (``LEDGER_ORDER``), unknown keys
    last, sorted."""
    found = most_specific(groups)
    return [key for key in LEDGER_ORDER if key in found] + sorted(found - set(LEDGER_ORDER))


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
        if not self._could_apply(resident):
            return []
        return self.reasons_in(resident, special_groups(resident, today))

    def reasons_in(self, resident: Mapping[str, Any], groups: Iterable[str]) -> list[str]:
        """``reasons`` for a resident whose special groups (``special_groups``) are already known."""
        if not self._could_apply(resident):
            return []
        reasons = sorted(most_specific(set(groups) & self.groups))
        if self.home_isolation and resident.get("isolation_status") == "home":
            reasons.append("home_isolation")
        return reasons

    def is_eligible(self, resident: Mapping[str, Any], today: date) -> bool:
        return bool(self.reasons(resident, today))

    def might_be_eligible(self, resident: Mapping[str, Any], today: date) -> bool:
        """A cheap, conservative pre-check of ``reasons``: False only when the rule certainly says no (most people).

        Checksumming every ID number of a big grid is the slow part; an age group can only apply when the birth year
        in the number puts the resident near one of the age limits.
        """
        if resident.get("residency") in self.excluded_residency:
            return False
        if not self.groups.isdisjoint(resident.get("special_groups") or ()):
            return True
        if self.home_isolation and resident.get("isolation_status") == "home":
            return True
        possible = birth_year_groups(resident.get("id_number"), today)
        return possible is None or not self.groups.isdisjoint(possible)

    def is_eligible_split(self, fields: Mapping[str, Any], recorded: Iterable[str], today: date) -> bool:
        """``is_eligible`` for a resident whose recorded groups come apart from the other fields (as a store keeps
        them). For many residents at once, ``split_checker`` is faster."""
        return self.split_checker(today)(fields, recorded)

    def split_checker(self, today: date) -> Callable[[Mapping[str, Any], Iterable[str]], bool]:
        """``is_eligible_split`` on ``today`` as a function of ``(fields, recorded)``, for a whole grid: the ID number
        is parsed only when its birth year puts the resident near an age limit of this rule (found once per year)."""
        groups, excluded, isolation = self.groups, self.excluded_residency, self.home_isolation
        recorded_eligible = groups & frozenset(RECORDED_GROUPS)
        quiet_years: dict[str, bool] = {}  # birth year in the number -> no age group of this rule is possible

        def eligible(fields: Mapping[str, Any], recorded: Iterable[str]) -> bool:
            if fields.get("_deleted") or fields.get("residency") in excluded:
                return False
            if isolation and fields.get("isolation_status") == "home":
                return True
            if recorded and not recorded_eligible.isdisjoint(recorded):
                return True
            number = fields.get("id_number")
            if number.__class__ is str and len(number) == 18:
                year = number[6:10]
                quiet = quiet_years.get(year)
                if quiet is None:
                    possible = birth_year_groups(number, today)
                    quiet = quiet_years[year] = possible is not None and groups.isdisjoint(possible)
                if quiet:
                    return False
            return not groups.isdisjoint(derived_groups(resident_age(fields, today)))

        return eligible

    def _could_apply(self, resident: Mapping[str, Any]) -> bool:
        return not resident.get("_deleted") and resident.get("residency") not in self.excluded_residency

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
