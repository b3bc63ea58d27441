"""Whom a campaign must reach: a target rule over residents (and their households), read from JSON-shaped data.

A rule is a list of clauses (``any``): a person is a target when one clause matches, and a clause matches when
every condition it names holds (special groups: any of them; age: within the bounds, from the ID number; the
resident's tags: any of them; the household's tags: any of them; isolation status: any of them). A rule without
clauses targets everyone. Around the clauses: only the residencies named (by default residents and floating
residents: someone registered here who lives elsewhere is not at home to reach), only the buildings named (when
any), and, whatever the clauses say, the residents or households listed by id. Deleted records are never
targets. For a household campaign a household is a target when one of its (live) residents is, or its own tags
or id match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from field_agent.domain.enums import ISOLATION_STATUSES, RECORDED_GROUPS, RESIDENCY_TYPES, SPECIAL_GROUPS
from field_agent.domain.groups import EligibilityRule, birth_year_groups, resident_age, special_groups
from field_agent.domain.messages import Message, msg

DEFAULT_RESIDENCY = frozenset({"resident", "floating"})
AGE_LIMIT = 130
Report = Callable[[str, Message], None]


@dataclass(frozen=True, slots=True)
class Clause:
    """Conditions that must all hold; an empty condition is no condition."""

    groups: frozenset[str] = frozenset()
    min_age: int | None = None
    max_age: int | None = None
    tags: frozenset[str] = frozenset()
    household_tags: frozenset[str] = frozenset()
    isolation: frozenset[str] = frozenset()

    def about_residents(self) -> bool:
        return bool(self.groups or self.tags or self.isolation) or self.min_age is not None or self.max_age is not None

    def matches(self, resident: Mapping[str, Any], household: Mapping[str, Any] | None, today: date) -> bool:
        if self.isolation and resident.get("isolation_status", "none") not in self.isolation:
            return False
        if self.tags and not self.tags.intersection(resident.get("tags") or ()):
            return False
        if self.household_tags and not self.household_tags.intersection((household or {}).get("tags") or ()):
            return False
        if self.min_age is not None or self.max_age is not None:
            if not self._age_may_fit(resident.get("id_number"), today):
                return False
            age = resident_age(resident, today)
            if age is None:
                return False
            if self.min_age is not None and age < self.min_age:
                return False
            if self.max_age is not None and age > self.max_age:
                return False
        if not self.groups:
            return True
        recorded = resident.get("special_groups") or ()
        if any(group in self.groups and group in RECORDED_GROUPS for group in recorded):
            return True  # a recorded group counts whatever the age (``groups_from``): no need to parse the number
        possible = birth_year_groups(resident.get("id_number"), today)
        if possible is not None and self.groups.isdisjoint(possible):
            return False  # no age group of the clause fits the birth year: the number need not be parsed
        return bool(self.groups.intersection(special_groups(resident, today)))

    def _age_may_fit(self, id_number: object, today: date) -> bool:
        """Whether the birth year in an 18-character number allows an age within the bounds (the holder is
        ``today.year - year`` or one less); True when the number shows no birth year (then only parsing tells).
        Parsing an ID number is the slow part of finding a grid's targets: most residents are decided here."""
        if not isinstance(id_number, str) or len(id_number) != 18 or not id_number[6:10].isdigit():
            return True
        oldest = today.year - int(id_number[6:10])
        low = self.min_age if self.min_age is not None else -1
        high = self.max_age if self.max_age is not None else AGE_LIMIT + 1
        return oldest >= low and oldest - 1 <= high

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in ("groups", "tags", "household_tags", "isolation"):
            value = getattr(self, name)
            if value:
                data[name] = sorted(value)
        if self.min_age is not None:
            data["min_age"] = self.min_age
        if self.max_age is not None:
            data["max_age"] = self.max_age
        return data


@dataclass(frozen=True, slots=True)
class TargetRule:
    """Which residents (or households) a campaign must reach; see the module's note."""

    clauses: tuple[Clause, ...] = ()
    residency: frozenset[str] = DEFAULT_RESIDENCY
    buildings: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()

    def resident_is_target(self, resident: Mapping[str, Any], household: Mapping[str, Any] | None, today: date) -> bool:
        if resident.get("_deleted"):
            return False
        if resident.get("id") in self.ids:
            return True
        if resident.get("residency") not in self.residency:
            return False
        if self.buildings and (household or {}).get("building") not in self.buildings:
            return False
        return not self.clauses or any(clause.matches(resident, household, today) for clause in self.clauses)

    def household_is_target(
        self, household: Mapping[str, Any], residents: Iterable[Mapping[str, Any]], today: date
    ) -> bool:
        if household.get("_deleted"):
            return False
        if household.get("id") in self.ids:
            return True
        if self.buildings and household.get("building") not in self.buildings:
            return False
        living = [r for r in residents if not r.get("_deleted") and r.get("residency") in self.residency]
        if not self.clauses:
            return bool(living)
        for clause in self.clauses:
            if not clause.about_residents():
                if clause.household_tags.intersection(household.get("tags") or ()) and living:
                    return True
                continue
            if any(clause.matches(resident, household, today) for resident in living):
                return True
        return False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"any": [clause.to_dict() for clause in self.clauses]}
        data["residency"] = sorted(self.residency)
        if self.buildings:
            data["buildings"] = sorted(self.buildings)
        if self.ids:
            data["ids"] = sorted(self.ids)
        return data

    @classmethod
    def from_eligibility(cls, rule: EligibilityRule) -> TargetRule:
        """The home-sampling rule as a target rule: its groups, or home isolation, among the residencies it keeps."""
        clauses = [Clause(groups=frozenset(rule.groups))] if rule.groups else []
        if rule.home_isolation:
            clauses.append(Clause(isolation=frozenset({"home"})))
        residency = frozenset(RESIDENCY_TYPES) - rule.excluded_residency
        return cls(tuple(clauses), residency)


def parse_target(data: object, report: Report) -> TargetRule:
    """Read a rule; each problem goes to ``report(path, message)`` (the rule returned is then partial)."""
    if not isinstance(data, Mapping):
        report("target", msg("campaign.not_object"))
        return TargetRule()
    known = {"any", "residency", "buildings", "ids"}
    for name in data:
        if name not in known:
            report(f"target.{name}", msg("campaign.unknown_key", keys=", ".join(sorted(known))))
    clauses: list[Clause] = []
    items = data.get("any") or []
    if not isinstance(items, list):
        report("target.any", msg("value.not_list", type=type(items).__name__))
        items = []
    for position, item in enumerate(items, start=1):
        clause = _clause(item, f"target.any[{position}]", report)
        if clause is not None:
            clauses.append(clause)
    residency = _words(data, "residency", "target", RESIDENCY_TYPES, report)
    buildings = _words(data, "buildings", "target", None, report)
    ids = _words(data, "ids", "target", None, report)
    return TargetRule(
        tuple(clauses), frozenset(residency) if "residency" in data else DEFAULT_RESIDENCY, buildings, ids
    )


def _clause(item: object, path: str, report: Report) -> Clause | None:
    if not isinstance(item, Mapping):
        report(path, msg("campaign.not_object"))
        return None
    known = {"groups", "min_age", "max_age", "tags", "household_tags", "isolation"}
    for name in item:
        if name not in known:
            report(f"{path}.{name}", msg("campaign.unknown_key", keys=", ".join(sorted(known))))
    ages: dict[str, int | None] = {}
    for name in ("min_age", "max_age"):
        value = item.get(name)
        if value is None or value == "":
            ages[name] = None
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AGE_LIMIT:
            report(f"{path}.{name}", msg("number.range", minimum=0, maximum=AGE_LIMIT))
            ages[name] = None
        else:
            ages[name] = value
    low, high = ages["min_age"], ages["max_age"]
    if low is not None and high is not None and high < low:
        report(f"{path}.max_age", msg("campaign.range"))
    clause = Clause(
        groups=_words(item, "groups", path, SPECIAL_GROUPS, report),
        min_age=low,
        max_age=high,
        tags=_words(item, "tags", path, None, report),
        household_tags=_words(item, "household_tags", path, None, report),
        isolation=_words(item, "isolation", path, ISOLATION_STATUSES, report),
    )
    if clause == Clause() and all(item.get(name) in (None, "", [], ()) for name in known):
        report(path, msg("campaign.empty_clause"))
        return None
    return clause


def _words(
    data: Mapping[str, Any], name: str, path: str, allowed: tuple[str, ...] | None, report: Report
) -> frozenset[str]:
    value = data.get(name)
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple):
        report(f"{path}.{name}", msg("value.not_list", type=type(value).__name__))
        return frozenset()
    words: set[str] = set()
    for position, element in enumerate(value, start=1):
        if not isinstance(element, str) or not element.strip():
            report(f"{path}.{name}[{position}]", msg("value.empty"))
        elif allowed is not None and element not in allowed:
            report(f"{path}.{name}[{position}]", msg("enum.choice", choices=", ".join(allowed)))
        elif len(element) > 50:
            report(f"{path}.{name}[{position}]", msg("text.too_long", max_length=50))
        else:
            words.add(element.strip())
    return frozenset(words)
