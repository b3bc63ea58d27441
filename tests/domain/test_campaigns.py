"""Campaign definitions (every problem named by its place), target rules, results against the form, coverage, and
the home sampling round read as a campaign."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain.campaigns.definition import DefinitionError, parse_campaign
from field_agent.domain.campaigns.results import check_result, check_result_record, coverage, find_targets
from field_agent.domain.campaigns.rounds import round_campaign, round_results
from field_agent.domain.campaigns.templates import TEMPLATES, from_template
from field_agent.domain.demo import generate_demo
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, nobody_left_out
from field_agent.domain.idnumber import make_id_number

TODAY = date(2026, 12, 6)


def typhoon() -> Any:
    return from_template("typhoon", "typhoon-12", "防台风转移", date(2026, 12, 1), date(2026, 12, 10))


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_reads_back_as_itself(template: str) -> None:
    campaign = from_template(template, f"k-{template}", "活动", date(2026, 12, 1))
    assert parse_campaign(campaign.to_dict()) == campaign
    assert campaign.keys_counting("done")


def test_a_bad_definition_names_every_problem_by_its_place_without_quoting_values() -> None:
    data = {
        "key": "Typhoon 12",
        "name": "",
        "template": "typhoon",
        "starts": "2026-02-30",
        "ends": "2025-01-01",
        "target": {"any": [{"groups": ["老人家"], "min_age": 200}], "residency": ["here"]},
        "form": [
            {"name": "moved", "label": "已转移", "type": "checkbox"},
            {"name": "moved", "label": "x", "type": "choice"},
        ],
        "statuses": [{"key": "moved", "label": "已转移", "counts": "maybe"}],
        "colour": "red",
    }
    with pytest.raises(DefinitionError) as caught:
        parse_campaign(data)
    paths = [problem.path for problem in caught.value.problems]
    assert paths == [
        "colour",
        "key",
        "name",
        "starts",
        "target.any[1].min_age",
        "target.any[1].groups[1]",
        "target.residency[1]",
        "form[1].type",
        "form[2].name",
        "form[2].choices",
        "statuses[1].counts",
        "statuses",
    ]
    assert "Typhoon 12" not in str(caught.value) and "老人家" not in str(caught.value)


def resident(rid: str, household: str, birth: date, **fields: Any) -> dict[str, Any]:
    number = make_id_number("350181", birth, 7, fields.pop("sex", "female"))
    return {"id": rid, "household": household, "id_number": number, "residency": "resident", **fields}


def test_target_rule_clauses_filters_and_explicit_ids() -> None:
    households = {
        "h1": {"id": "h1", "address": "1号楼101", "building": "1号楼", "tags": ["出租"]},
        "h2": {"id": "h2", "address": "2号楼101", "building": "2号楼"},
    }
    people = [
        resident("old", "h1", date(1940, 1, 1)),
        resident("young", "h1", date(1990, 1, 1)),
        resident("alone", "h2", date(1990, 1, 1), tags=["独居老人"]),
        resident("away", "h2", date(1930, 1, 1), residency="away"),
        resident("gone", "h2", date(1930, 1, 1), _deleted=True),
        resident("listed", "h2", date(1990, 1, 1)),
    ]
    campaign = from_template(
        "typhoon",
        "t",
        "t",
        date(2026, 12, 1),
        target={"any": [{"min_age": 60}, {"tags": ["独居老人"]}], "ids": ["listed"]},
    )
    assert find_targets(campaign, people, households, TODAY) == ["old", "alone", "listed"]
    in_two = from_template(
        "typhoon", "t", "t", date(2026, 12, 1), target={"any": [{"min_age": 60}], "buildings": ["2号楼"]}
    )
    assert find_targets(in_two, people, households, TODAY) == []
    supplies = from_template("supplies", "s", "s", date(2026, 12, 1), target={"any": [{"household_tags": ["出租"]}]})
    assert find_targets(supplies, people, households, TODAY) == ["h1"]


def test_a_result_is_checked_against_the_form() -> None:
    campaign = typhoon()
    fine = {"status": "moved", "answers": {"contacted": True, "moved": True, "shelter": "村委会"}}
    assert check_result(campaign, fine) == []
    problems = check_result(campaign, {"status": "moved", "answers": {"contacted": "yes", "colour": 1}})
    assert [(e.field, e.key) for e in problems] == [
        ("answers.contacted", "bool.bool"),
        ("answers.colour", "campaign.unknown_answer"),
        ("answers.moved", "record.required"),
    ]
    assert [e.field for e in check_result(campaign, {"status": "stays_safe"})] == ["reason"]
    assert [e.field for e in check_result(campaign, {"status": "flew"})] == ["status"]


def test_a_result_needs_a_campaign_of_its_grid_and_a_target_of_the_campaigns_subject() -> None:
    record = {"kind": "campaign", "definition": typhoon().to_dict()}
    result = {"status": "not_reached"}
    assert check_result_record(record, result, "resident") == []
    assert [e.key for e in check_result_record(None, result, "resident")] == ["campaign.unknown"]
    assert [e.key for e in check_result_record(record, result, "household")] == ["campaign.subject"]


statuses = st.sampled_from(["moved", "stays_safe", "refused", "not_reached", "bogus"])


@settings(max_examples=200, deadline=None)
@given(
    targets=st.lists(st.sampled_from([f"r{i}" for i in range(12)]), unique=True),
    results=st.lists(st.tuples(st.sampled_from([f"r{i}" for i in range(15)]), statuses, st.booleans()), max_size=30),
)
def test_left_out_is_exactly_the_targets_without_a_done_or_excused_result(targets, results) -> None:
    campaign = typhoon()
    views = [
        {"id": f"x{n}", "target": target, "status": status, "_deleted": deleted}
        for n, (target, status, deleted) in enumerate(results)
    ]
    cover = coverage(campaign, targets, views)
    reached = {v["target"] for v in views if not v["_deleted"] and v["status"] in ("moved", "stays_safe")}
    assert set(cover.left_out) == set(targets) - reached
    assert list(cover.left_out) == [t for t in targets if t not in reached]
    assert cover.done | cover.excused == reached & set(targets)
    assert not cover.done & cover.excused


def test_a_sampling_round_read_as_a_campaign_leaves_out_the_same_people() -> None:
    records = generate_demo(seed=3, households_per_grid=120, today=TODAY)
    views = {r.record_id: {"id": r.record_id, "kind": r.kind, **r.values, **r.sets} for r in records}
    residents = [v for v in views.values() if v["kind"] == "resident"]
    households = {k: v for k, v in views.items() if v["kind"] == "household"}
    samplings = [v for v in views.values() if v["kind"] == "sampling"]
    (round_view,) = [v for v in views.values() if v["kind"] == "sampling_round"]
    campaign = round_campaign(round_view, DEFAULT_ELIGIBILITY)
    targets = find_targets(campaign, residents, households, TODAY)
    cover = coverage(campaign, targets, round_results(samplings, round_view["id"]))
    before = nobody_left_out(residents, samplings, round_view["id"], TODAY, DEFAULT_ELIGIBILITY)
    assert set(cover.left_out) == {r["id"] for r in before}
    assert cover.left_out and cover.done


def test_a_teams_day_route_goes_building_by_building_in_walking_order() -> None:
    from zoneinfo import ZoneInfo

    from field_agent.domain.campaigns.route import day_route

    households = {
        "a": {"building": "10号楼", "unit": "1单元", "room": "101", "address": "10号楼1单元101"},
        "b": {"building": "2号楼", "unit": "2单元", "room": "301", "address": "2号楼2单元301"},
        "c": {"building": "2号楼", "unit": "1单元", "room": "502", "address": "2号楼1单元502"},
    }
    campaign = round_campaign({"id": "0193a1b2-0000-7000-8000-000000000003", "started_at": "2026-12-05T08:00:00+08:00"})
    at = "2026-12-06T{}:00+08:00"

    def appointment(n: int, household: str, time: str, **extra: Any) -> dict[str, Any]:
        base = {"id": f"s{n}", "target": f"r{n}", "household": household, "team": "流动采样一队"}
        return {**base, "status": "scheduled", "scheduled_at": at.format(time), **extra}

    results = [
        appointment(1, "a", "09:00"),
        appointment(2, "b", "10:00"),
        appointment(3, "c", "11:00"),
        appointment(4, "c", "08:30", status="sampled"),  # done already: not on the route
        appointment(5, "b", "09:30", team="流动采样二队"),
        appointment(6, "b", "09:30", scheduled_at="2026-12-07T09:30:00+08:00"),
        appointment(7, "a", "01:00", scheduled_at="2026-12-05T17:00:00+00:00"),  # 01:00 on the 6th in Beijing
    ]
    route = day_route(campaign, results, households, "流动采样一队", date(2026, 12, 6), ZoneInfo("Asia/Shanghai"))
    assert [(b.name, [s.result for s in b.stops]) for b in route] == [("2号楼", ["s3", "s2"]), ("10号楼", ["s7", "s1"])]
