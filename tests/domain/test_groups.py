"""Special groups at the age boundaries, recorded groups, and the home-sampling eligibility rule."""

from __future__ import annotations

from datetime import date

import pytest

from field_agent.domain.errors import ConfigError
from field_agent.domain.groups import (
    DEFAULT_ELIGIBILITY,
    EligibilityRule,
    nobody_left_out,
    resident_age,
    special_groups,
)
from field_agent.domain.idnumber import make_id_number

TODAY = date(2026, 11, 30)


def born(birth: date, sex: str = "female", **fields) -> dict:
    return {"id_number": make_id_number("350181", birth, 7, sex), "residency": "resident", **fields}


@pytest.mark.parametrize(
    ("birth", "groups"),
    [
        (date(1966, 11, 30), {"elderly"}),  # 60 today
        (date(1966, 12, 1), set()),  # 60 tomorrow
        (date(1946, 11, 30), {"elderly", "very_old"}),  # 80 today
        (date(1946, 12, 1), {"elderly"}),  # 79 until tomorrow
        (date(2023, 12, 1), {"infant"}),  # 2 years 364 days
        (date(2023, 11, 30), set()),  # 3 today
        (TODAY, {"infant"}),  # born today
    ],
)
def test_derived_groups_at_the_boundaries(birth, groups) -> None:
    assert special_groups(born(birth), TODAY) == groups


def test_recorded_groups_join_derived_ones_and_unknown_entries_are_ignored() -> None:
    resident = born(date(1940, 5, 1), special_groups=["bedridden", "chronic", "made_up"])
    assert special_groups(resident, TODAY) == {"elderly", "very_old", "bedridden", "chronic"}


def test_missing_or_invalid_id_number_derives_nothing() -> None:
    assert special_groups({"special_groups": ["disabled"]}, TODAY) == {"disabled"}
    assert special_groups({"id_number": "350181199001011235"}, TODAY) == set()
    assert resident_age({"id_number": None}, TODAY) is None


@pytest.mark.parametrize(
    ("resident", "reasons"),
    [
        (born(date(1950, 1, 1)), []),  # elderly 60-79 are not eligible by default
        (born(date(1940, 1, 1)), ["very_old"]),
        (born(date(2025, 1, 1)), ["infant"]),
        (born(date(1990, 1, 1), special_groups=["pregnant"]), ["pregnant"]),
        (born(date(1970, 1, 1), special_groups=["chronic", "disabled"]), ["chronic", "disabled"]),
        (born(date(1970, 1, 1), special_groups=["bedridden"]), ["bedridden"]),
        (born(date(1990, 1, 1), isolation_status="home"), ["home_isolation"]),
        (born(date(1990, 1, 1), isolation_status="ended"), []),
        (born(date(1940, 1, 1), residency="away"), []),
        (born(date(1940, 1, 1), _deleted=True), []),
    ],
)
def test_default_eligibility(resident, reasons) -> None:
    assert DEFAULT_ELIGIBILITY.reasons(resident, TODAY) == reasons
    assert DEFAULT_ELIGIBILITY.is_eligible(resident, TODAY) == bool(reasons)


def test_eligibility_is_configurable() -> None:
    rule = EligibilityRule.from_dict({"groups": ["elderly"], "home_isolation": False, "excluded_residency": []})
    assert rule.is_eligible(born(date(1950, 1, 1)), TODAY)
    assert rule.is_eligible(born(date(1950, 1, 1), residency="away"), TODAY)
    assert not rule.is_eligible(born(date(1990, 1, 1), special_groups=["bedridden"]), TODAY)
    assert not rule.is_eligible(born(date(1990, 1, 1), isolation_status="home"), TODAY)
    assert EligibilityRule.from_dict(rule.to_dict()) == rule
    assert EligibilityRule.from_dict({}) == DEFAULT_ELIGIBILITY


def test_eligibility_refuses_unknown_groups() -> None:
    with pytest.raises(ConfigError, match="unknown group"):
        EligibilityRule(groups=frozenset({"very_old", "teenager"}))


def test_nobody_left_out_lists_eligible_residents_without_sampled_or_exempt_entry() -> None:
    residents = [
        born(date(1940, 1, 1), id="a"),  # sampled
        born(date(1940, 1, 1), id="b"),  # missed, still to do
        born(date(1940, 1, 1), id="c"),  # exempt
        born(date(1940, 1, 1), id="d"),  # sampled in another round only
        born(date(1990, 1, 1), id="e"),  # not eligible
    ]
    samplings = [
        {"round": "r1", "resident": "a", "status": "sampled"},
        {"round": "r1", "resident": "b", "status": "missed"},
        {"round": "r1", "resident": "c", "status": "exempt"},
        {"round": "r0", "resident": "d", "status": "sampled"},
        {"round": "r1", "resident": "d", "status": "sampled", "_deleted": True},
    ]
    assert [r["id"] for r in nobody_left_out(residents, samplings, "r1", TODAY)] == ["b", "d"]


def test_display_orders_hold_every_group_once() -> None:
    from field_agent.domain.enums import SPECIAL_GROUPS
    from field_agent.domain.groups import LEDGER_ORDER, in_ledger_order, in_screen_order

    assert sorted(LEDGER_ORDER) == sorted(SPECIAL_GROUPS) and len(set(LEDGER_ORDER)) == len(LEDGER_ORDER)
    assert in_screen_order({"chronic", "elderly", "infant", "made_up"}) == ["elderly", "infant", "chronic"]
    assert in_ledger_order({"chronic", "elderly", "infant", "made_up"}) == ["elderly", "chronic", "infant", "made_up"]


def test_someone_over_80_is_shown_in_one_age_group_the_most_specific() -> None:
    """80岁以上高龄 only, not also 60岁以上老人 (issue 16 item 11): on screens, in ledgers and in sampling reasons;
    a town rule naming 60岁以上老人 still covers them."""
    from field_agent.domain.groups import EligibilityRule, in_ledger_order, in_screen_order

    resident = born(date(TODAY.year - 85, 1, 1)) | {"special_groups": ["chronic"]}
    assert special_groups(resident, TODAY) == {"elderly", "very_old", "chronic"}  # membership: both
    assert in_screen_order(special_groups(resident, TODAY)) == ["very_old", "chronic"]
    assert in_ledger_order(special_groups(resident, TODAY)) == ["very_old", "chronic"]
    town_rule = EligibilityRule(groups=frozenset({"elderly", "very_old"}))
    assert town_rule.reasons(resident, TODAY) == ["very_old"]
    assert EligibilityRule(groups=frozenset({"elderly"})).reasons(resident, TODAY) == ["elderly"]
    seventy = born(date(TODAY.year - 70, 1, 1))
    assert in_screen_order(special_groups(seventy, TODAY)) == ["elderly"]


@pytest.mark.parametrize("age", [0, 2, 3, 4, 58, 59, 60, 61, 78, 79, 80, 81, 105])
def test_the_birth_year_allows_every_group_the_age_gives(age) -> None:
    from field_agent.domain.groups import birth_year_groups, derived_groups

    for birth in (date(TODAY.year - age, 1, 1), date(TODAY.year - age - 1, 12, 31)):
        number = make_id_number("350181", birth, 7, "female")
        assert special_groups({"id_number": number}, TODAY) <= birth_year_groups(number, TODAY)
    assert birth_year_groups("12345", TODAY) is None
    assert derived_groups(age) <= birth_year_groups(
        make_id_number("350181", date(TODAY.year - age, 1, 1), 7, "male"), TODAY
    )
