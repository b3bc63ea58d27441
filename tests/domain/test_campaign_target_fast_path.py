"""A target clause decides most residents from the birth year in their ID number without parsing it (parsing is
the slow part of finding a grid's targets on Today); the verdict is always the one the full parse gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain.campaigns.target import Clause
from field_agent.domain.enums import RECORDED_GROUPS, SPECIAL_GROUPS
from field_agent.domain.groups import resident_age, special_groups
from field_agent.domain.idnumber import make_id_number


def reference(clause: Clause, resident: dict[str, Any], today: date) -> bool:
    """The clause's meaning, every number parsed."""
    if clause.min_age is not None or clause.max_age is not None:
        age = resident_age(resident, today)
        if age is None:
            return False
        if clause.min_age is not None and age < clause.min_age:
            return False
        if clause.max_age is not None and age > clause.max_age:
            return False
    return not clause.groups or bool(clause.groups.intersection(special_groups(resident, today)))


numbers = st.one_of(
    st.builds(
        lambda birth, order, sex, broken: (lambda n: n[:17] + ("0" if n[17] != "0" else "1") if broken else n)(
            make_id_number("350181", birth, order, sex)
        ),
        st.dates(date(1900, 1, 1), date(2026, 12, 31)),
        st.integers(1, 99),
        st.sampled_from(["male", "female"]),
        st.booleans(),
    ),
    st.sampled_from([None, "", "35018119", "3501811950030412X9", "350181abcd0304123X"]),
)


@settings(max_examples=400, deadline=None)
@given(
    number=numbers,
    recorded=st.lists(st.sampled_from([*RECORDED_GROUPS, "elderly", "unknown"]), max_size=3),
    groups=st.frozensets(st.sampled_from(SPECIAL_GROUPS), max_size=3),
    low=st.one_of(st.none(), st.integers(0, 100)),
    high=st.one_of(st.none(), st.integers(0, 100)),
    today=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_the_birth_year_shortcut_gives_the_full_parse_verdict(
    number: str | None, recorded: list[str], groups: frozenset[str], low: int | None, high: int | None, today: date
) -> None:
    clause = Clause(groups=groups, min_age=low, max_age=high)
    resident = {"id_number": number, "special_groups": recorded}
    assert clause.matches(resident, None, today) == reference(clause, resident, today)
