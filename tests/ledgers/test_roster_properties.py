"""Property: any valid roster, written to CSV, parsed, planned and applied, then imported again, writes nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain.envelope import view
from field_agent.domain.idnumber import make_id_number
from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_import import plan_import

from .rosters import write_csv
from .test_roster_import import GRID, apply, clock

person = st.fixed_dictionaries(
    {
        "name": st.text(alphabet="陈林王李张刘黄吴郑明华芳强红", min_size=2, max_size=3),
        "birth": st.dates(min_value=dt.date(1925, 1, 1), max_value=dt.date(2024, 12, 31)),
        "sex": st.sampled_from(["male", "female"]),
        "home": st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(101, 104)),
        "residency": st.sampled_from(["常住", "流动", "外出", ""]),
        "groups": st.lists(st.sampled_from(["慢性病", "残疾", "卧床", "老人"]), unique=True, max_size=2),
        "phone": st.one_of(st.just(""), st.integers(13000000000, 13999999999).map(str)),
    }
)


def rows_for(people: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for number, p in enumerate(people):
        id_number = make_id_number("350181", p["birth"], number, p["sex"])
        building, unit, room = p["home"]
        rows.append([str(number + 1), p["name"], id_number, p["phone"], f"{building}栋", str(unit), f"{room}室",
                     p["residency"], "", "、".join(p["groups"]), ""])  # fmt: skip
    return rows


@settings(max_examples=30, deadline=None)
@given(st.lists(person, min_size=1, max_size=12))
def test_importing_any_valid_roster_twice_writes_nothing_the_second_time(people: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        parsed = parse_roster(write_csv(Path(folder) / "r.csv", rows_for(people)))
    assert parsed.errors == []
    envelopes: dict[str, dict[str, Any]] = {}
    apply(plan_import(parsed.rows, [], grid=GRID), envelopes, clock())
    views = [view(e) for e in envelopes.values()]
    assert sum(v["kind"] == "resident" for v in views) == len(people)
    assert sum(v["kind"] == "household" for v in views) == len({p["home"] for p in people})
    assert plan_import(parsed.rows, envelopes.values(), grid=GRID).writes == []
