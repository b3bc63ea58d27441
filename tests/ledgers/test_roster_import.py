"""Planning an import: households matched by building/unit/room, residents by ID number; a re-import is a no-op."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from field_agent.domain.envelope import local_edit, view
from field_agent.domain.hlc import HybridClock
from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_import import ImportPlan, plan_import

from .rosters import GOOD_ROWS, write_csv

GRID = "01900000-0000-7000-8000-00000000a001"


def apply(plan: ImportPlan, envelopes: dict[str, dict[str, Any]], clock: HybridClock) -> None:
    for write in plan.writes:
        envelopes[write.record_id], _ = local_edit(
            envelopes.get(write.record_id),
            clock,
            record_id=write.record_id,
            kind=write.kind,
            grid=GRID,
            values=write.values,
            set_changes=write.set_changes,
        )


def clock() -> HybridClock:
    ticks = itertools.count(1_764_000_000_000)
    return HybridClock("0123456789ab", now_ms=lambda: next(ticks))


def test_first_import_creates_households_and_residents(tmp_path: Path) -> None:
    rows = parse_roster(write_csv(tmp_path / "r.csv", GOOD_ROWS)).rows
    plan = plan_import(rows, [], grid=GRID)
    assert plan.summary(len(rows)) == {
        "rows": 5,
        "households_created": 3,
        "households_updated": 0,
        "residents_created": 5,
        "residents_updated": 0,
        "residents_unchanged": 0,
    }
    kinds = [w.kind for w in plan.writes]
    assert kinds == sorted(kinds, key=lambda k: k != "household")  # households first
    households = {w.record_id: w.values for w in plan.writes if w.kind == "household"}
    residents = [w.values for w in plan.writes if w.kind == "resident"]
    assert all(r["household"] in households for r in residents)
    chen_home = households[residents[0]["household"]]
    assert chen_home["head"] == "陈大明" and chen_home["phone"] == "13812345678"


def test_reimporting_the_same_rows_changes_nothing(tmp_path: Path) -> None:
    rows = parse_roster(write_csv(tmp_path / "r.csv", GOOD_ROWS)).rows
    envelopes: dict[str, dict[str, Any]] = {}
    tick = clock()
    apply(plan_import(rows, [], grid=GRID), envelopes, tick)
    again = plan_import(rows, envelopes.values(), grid=GRID)
    assert again.writes == []
    assert again.summary(len(rows))["residents_unchanged"] == 5


def test_changed_rows_update_only_what_changed_and_never_erase(tmp_path: Path) -> None:
    envelopes: dict[str, dict[str, Any]] = {}
    tick = clock()
    apply(plan_import(parse_roster(write_csv(tmp_path / "a.csv", GOOD_ROWS)).rows, [], grid=GRID), envelopes, tick)
    changed = [list(row) for row in GOOD_ROWS]
    changed[0][3] = ""  # phone left blank: keeps the stored one
    changed[3][3] = "13700001111"  # 李强's new phone
    changed[4][9] = "残疾"  # fewer groups listed: recorded ones stay
    plan = plan_import(parse_roster(write_csv(tmp_path / "b.csv", changed)).rows, envelopes.values(), grid=GRID)
    assert [(w.kind, w.values, w.set_changes) for w in plan.writes] == [("resident", {"phone": "13700001111"}, {})]
    apply(plan, envelopes, tick)
    people = {v["name"]: v for v in map(view, envelopes.values()) if v["kind"] == "resident"}
    assert people["陈大明"]["phone"] == "13812345678"
    assert people["赵一"]["special_groups"] == ["bedridden", "disabled"]


def test_existing_households_are_matched_by_building_unit_and_room(tmp_path: Path) -> None:
    existing, _ = local_edit(
        None,
        clock(),
        record_id="01900000-0000-7000-8000-000000000777",
        kind="household",
        grid=GRID,
        values={"building": "3号楼", "unit": "2单元", "room": "501", "address": "东门小区3号楼2单元501室"},
    )
    rows = parse_roster(write_csv(tmp_path / "r.csv", GOOD_ROWS[:2])).rows
    plan = plan_import(rows, [existing], grid=GRID)
    assert plan.count("household", True) == 0
    assert {w.values.get("household") for w in plan.writes if w.kind == "resident"} == {existing["id"]}
    (update,) = [w for w in plan.writes if w.kind == "household"]
    assert update.values == {"head": "陈大明", "phone": "13812345678"}


def test_records_of_other_grids_are_not_matched(tmp_path: Path) -> None:
    rows = parse_roster(write_csv(tmp_path / "r.csv", GOOD_ROWS)).rows
    envelopes: dict[str, dict[str, Any]] = {}
    apply(plan_import(rows, [], grid=GRID), envelopes, clock())
    plan = plan_import(rows, envelopes.values(), grid="01900000-0000-7000-8000-00000000a002")
    assert plan.count("resident", True) == 5


def test_tags_and_a_second_phone_are_added_and_a_roster_without_residency_keeps_the_stored_one(tmp_path: Path) -> None:
    number = GOOD_ROWS[3][2]
    first = tmp_path / "a.csv"
    first.write_text(f"姓名,身份证号,住址,人员类别,特殊人群\n李强,{number},12栋1单元101室,流动,独居老人\n", "utf-8")
    envelopes: dict[str, dict[str, Any]] = {}
    tick = clock()
    plan = plan_import(parse_roster(first).rows, [], grid=GRID)
    (created,) = [w for w in plan.writes if w.kind == "resident"]
    assert created.set_changes == {"tags": {"独居老人": True}} and "tags" not in created.values
    apply(plan, envelopes, tick)

    second = tmp_path / "b.csv"
    second.write_text(
        f"姓名,身份证号,住址,联系电话,特殊人群\n李强,{number},12栋1单元101室,13812345678/13987654321,低保户\n", "utf-8"
    )
    plan = plan_import(parse_roster(second).rows, envelopes.values(), grid=GRID)
    assert [(w.values, w.set_changes) for w in plan.writes] == [
        ({"phone": "13812345678", "phone2": "13987654321"}, {"tags": {"低保户": True}})
    ]  # no 人员类别 column: 流动 stays
    apply(plan, envelopes, tick)
    (li,) = [v for v in map(view, envelopes.values()) if v["kind"] == "resident"]
    assert li["residency"] == "floating" and li["tags"] == ["低保户", "独居老人"]
    assert plan_import(parse_roster(second).rows, envelopes.values(), grid=GRID).writes == []
