"""The demo town: deterministic, valid through and through, and shaped like a real community."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from field_agent.domain.demo import DemoRecord, demo_envelopes, generate_demo
from field_agent.domain.demo_data import TOWNS
from field_agent.domain.envelope import view
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, nobody_left_out, special_groups
from field_agent.domain.hlc import HybridClock
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG
from field_agent.domain.validation import validate_record

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def town() -> list[DemoRecord]:
    return generate_demo(seed=7, grids=4, households_per_grid=300, today=TODAY)


def flat(record: DemoRecord) -> dict:
    return {**record.values, **record.sets, "id": record.record_id}


def of_kind(records: list[DemoRecord], kind: str) -> list[dict]:
    return [flat(r) for r in records if r.kind == kind]


def test_same_seed_same_town_other_seed_other_town() -> None:
    first = generate_demo(seed=3, households_per_grid=40, today=TODAY)
    assert first == generate_demo(seed=3, households_per_grid=40, today=TODAY)
    other = generate_demo(seed=4, households_per_grid=40, today=TODAY)
    assert [r.record_id for r in other] != [r.record_id for r in first]
    names = [r["name"] for r in of_kind(first, "resident")]
    assert [r["name"] for r in of_kind(other, "resident")] != names


def test_first_grid_does_not_depend_on_town_size(town) -> None:
    single = generate_demo(seed=7, grids=1, households_per_grid=300, today=TODAY)
    assert [r for r in town if r.grid == single[0].grid] == single


def test_every_record_is_valid_and_ids_are_unique(town) -> None:
    for record in town:
        validate_record(record.kind, {**record.values, **record.sets})
    ids = [r.record_id for r in town]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 36 and i[14] == "7" for i in ids)  # UUIDv7-shaped


def test_references_point_at_records_of_the_same_grid(town) -> None:
    by_id = {r.record_id: r for r in town}
    for record in town:
        for field, kind in (("household", "household"), ("resident", "resident"), ("round", "sampling_round")):
            if field in record.values:
                target = by_id[record.values[field]]
                assert (target.kind, target.grid) == (kind, record.grid)
    residents_by_household = Counter(r.values["household"] for r in town if r.kind == "resident")
    assert set(residents_by_household.values()) <= set(range(1, 7))
    assert len(residents_by_household) == 4 * 300
    for visit in of_kind(town, "visit"):
        for resident in visit["residents_seen"]:
            assert by_id[resident].values["household"] == visit["household"]


def test_every_id_number_is_valid_and_unique(town) -> None:
    numbers = [r["id_number"] for r in of_kind(town, "resident")]
    assert len(set(numbers)) == len(numbers)
    holders = [parse_id_number(n, TODAY) for n in numbers]
    assert sum(h.region == "350181" for h in holders) / len(holders) > 0.6
    assert 0.4 < sum(h.sex == "male" for h in holders) / len(holders) < 0.6
    for resident in of_kind(town, "resident"):
        if "pregnant" in resident["special_groups"]:
            holder = parse_id_number(resident["id_number"], TODAY)
            assert holder.sex == "female" and 18 <= holder.age_on(TODAY) <= 45


def test_prevalence_is_like_a_real_community(town) -> None:
    residents = of_kind(town, "resident")
    count = Counter(g for r in residents for g in special_groups(r, TODAY))
    share = {group: n / len(residents) for group, n in count.items()}
    assert 0.15 <= share["elderly"] <= 0.25
    assert 0.01 <= share["very_old"] <= 0.06
    for group in ("infant", "disabled", "chronic", "pregnant"):
        assert 0.005 <= share[group] <= 0.06, group
    assert 0.001 <= share["bedridden"] <= 0.03
    isolated = [r for r in residents if r["isolation_status"] == "home"]
    assert 0.002 <= len(isolated) / len(residents) <= 0.03
    followups = of_kind(town, "followup")
    assert {f["resident"] for f in followups} <= {r["id"] for r in isolated}


def test_grid_has_a_leader_and_members_in_every_role_and_group(town) -> None:
    grids = of_kind(town, "grid")
    assert [g["town"] for g in grids] == list(TOWNS[:4])
    for grid in grids:
        assert grid["leader"] == grid["members"][0]["name"]
        assert {m["role"] for m in grid["members"]} == set(DEFAULT_ROLE_CONFIG.role_keys)
        assert {m["group"] for m in grid["members"]} == set(DEFAULT_ROLE_CONFIG.group_keys)
        assert grid["mode"] == "normal"


def test_open_tasks_for_each_role(town) -> None:
    for grid in {r.grid for r in town}:
        tasks = [flat(r) for r in town if r.kind == "task" and r.grid == grid]
        open_roles = {t["role"] for t in tasks if t["status"] in ("open", "in_progress")}
        assert open_roles == set(DEFAULT_ROLE_CONFIG.role_keys)


def test_sampling_round_is_open_and_part_done(town) -> None:
    residents = of_kind(town, "resident")
    samplings = of_kind(town, "sampling")
    for round_ in of_kind(town, "sampling_round"):
        assert round_["status"] == "open"
        in_round = [s for s in samplings if s["round"] == round_["id"]]
        statuses = Counter(s["status"] for s in in_round)
        assert statuses["sampled"] > statuses["scheduled"] > 0
        grid_residents = [r for r in residents if any(s["resident"] == r["id"] for s in in_round)]
        assert all(DEFAULT_ELIGIBILITY.is_eligible(r, TODAY) for r in grid_residents)
    left_out = []
    for round_record in (r for r in town if r.kind == "sampling_round"):
        in_grid = [flat(r) for r in town if r.kind == "resident" and r.grid == round_record.grid]
        left_out += nobody_left_out(in_grid, samplings, round_record.record_id, TODAY)
    eligible = [r for r in residents if DEFAULT_ELIGIBILITY.is_eligible(r, TODAY)]
    assert 0.2 <= len(left_out) / len(eligible) <= 0.6


def test_visits_have_plausible_outcomes(town) -> None:
    visits = of_kind(town, "visit")
    outcomes = Counter(v["outcome"] for v in visits)
    assert outcomes["met"] > outcomes["nobody_home"] > 0
    assert all(v["residents_seen"] == [] for v in visits if v["outcome"] != "met")


def test_envelopes_read_back_as_the_records() -> None:
    records = generate_demo(seed=2, households_per_grid=20, today=TODAY)
    envelopes = demo_envelopes(records, HybridClock("00000000abcd", now_ms=lambda: 1_700_000_000_000))
    assert len(envelopes) == len(records)
    for record, envelope in zip(records, envelopes, strict=True):
        shown = view(envelope)
        assert (shown["id"], shown["kind"], shown["grid"]) == (record.record_id, record.kind, record.grid)
        for name, value in record.values.items():
            assert shown[name] == value
        for name, elements in record.sets.items():
            assert shown.get(name, []) == sorted(elements)


def test_refuses_an_empty_town() -> None:
    with pytest.raises(ValueError, match="at least one grid"):
        generate_demo(grids=0)
