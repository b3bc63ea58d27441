"""Rows of each ledger, cross-checked against the records they come from; masking; deleted records skipped."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from field_agent.domain.envelope import is_deleted, view
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, nobody_left_out, special_groups
from field_agent.ledgers.builder import build_ledger
from field_agent.ledgers.definitions import load_definitions

from .town import G1, TODAY, TownBuilder

MASKED_ID = re.compile(r"^\d{6}\*{10}[0-9X]{2}$")


def live(envelopes: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [view(e) for e in envelopes if e["kind"] == kind and not is_deleted(e)]


def expected_counts(envelopes: list[dict[str, Any]]) -> dict[str, int]:
    """Row counts worked out straight from the records, with the domain's own rules."""
    residents = live(envelopes, "resident")
    campaigns = {c["id"]: c for c in live(envelopes, "campaign")}
    return {
        "residents": sum(r["residency"] in ("resident", "away") for r in residents),
        "floating": sum(r["residency"] == "floating" for r in residents),
        "special_groups": sum(
            r["residency"] != "away" and bool(special_groups(r, TODAY) or DEFAULT_ELIGIBILITY.is_eligible(r, TODAY))
            for r in residents
        ),
        "isolation": sum(r.get("isolation_status") in ("home", "ended") for r in residents),
        "sampling": len(live(envelopes, "sampling_round")),
        "visits": len(live(envelopes, "visit")),
        "key_persons": sum(bool(set(r.get("tags") or ()) & KEY_PERSON_WORDS) for r in residents),
        "rented_housing": sum(rented(h, residents) for h in live(envelopes, "household")),
        "grid_staff": sum(len(staff(g, live(envelopes, "task"))) for g in live(envelopes, "grid")),
        "grid_tasks": len(live(envelopes, "task")),
        "supplies": sum(
            (campaigns.get(r.get("campaign")) or {}).get("template") == "supplies"
            for r in live(envelopes, "campaign_result")
        ),
    }


KEY_PERSON_WORDS = {"重点人员", "社区矫正", "刑满释放", "安置帮教", "严重精神障碍", "精神障碍", "吸毒人员", "社区戒毒"}
KEY_PERSON_WORDS |= {"社区康复", "重点上访", "重点信访"}
RENTED_WORDS = {"出租", "出租房", "出租屋", "群租", "群租房", "rented"}


def rented(household: dict[str, Any], residents: list[dict[str, Any]]) -> bool:
    """Marked rented, or everyone who lives there (not away) is floating population."""
    living = [r for r in residents if r["household"] == household["id"] and r["residency"] != "away"]
    floating_only = bool(living) and all(r["residency"] == "floating" for r in living)
    return floating_only or bool(set(household.get("tags") or ()) & RENTED_WORDS)


def staff(grid: dict[str, Any], tasks: list[dict[str, Any]]) -> set[str]:
    """The grid's members and anyone else its tasks are assigned to."""
    names = {m["name"] for m in grid.get("members") or ()}
    return names | {t["assignee"] for t in tasks if t["grid"] == grid["grid"] and t.get("assignee")}


@pytest.mark.parametrize("source", ["town", "demo"])
def test_every_ledger_has_its_headers_and_the_rows_the_records_call_for(source: str, request) -> None:
    envelopes = request.getfixturevalue(source)
    expected = expected_counts(envelopes)
    for name, definition in load_definitions().items():
        ledger = build_ledger(name, envelopes, today=TODAY)
        assert ledger.headers == [c.zh for c in definition.columns]
        assert len(ledger.rows) == expected[name], name
        assert all(len(row) == len(ledger.headers) for row in ledger.rows)


@pytest.mark.parametrize("source", ["town", "demo"])
def test_left_out_per_round_is_the_domains_nobody_left_out_list(source: str, request) -> None:
    envelopes = request.getfixturevalue(source)
    residents, samplings = live(envelopes, "resident"), live(envelopes, "sampling")
    ledger = build_ledger("sampling", envelopes, today=TODAY)
    rounds = {(r["grid"], r["name"], r["id"]) for r in live(envelopes, "sampling_round")}
    rows = ledger.as_dicts()
    assert len(rows) == len(rounds)
    for grid, _name, round_id in rounds:
        grid_residents = [r for r in residents if r["grid"] == grid]
        expected = len(nobody_left_out(grid_residents, samplings, round_id, TODAY))
        eligible = sum(DEFAULT_ELIGIBILITY.is_eligible(r, TODAY) for r in grid_residents)
        matching = [r for r in rows if r["left_out"] == expected and r["eligible"] == eligible]
        assert matching, (grid, round_id)


def test_special_groups_ledger_shows_the_current_round_status(town: list[dict[str, Any]]) -> None:
    rows = {r["name"]: r for r in build_ledger("special_groups", town, today=TODAY).as_dicts()}
    assert rows["陈大明"]["sampling_status_zh"] == "已采样"
    assert rows["陈大明"]["round_name"] == "第2轮"  # the open round, not the closed one
    assert rows["李强"]["sampling_status_zh"] == "已预约"
    assert rows["王芳"]["sampling_status_zh"] == "免检"  # eligible through home isolation
    assert rows["陈宝宝"]["sampling_status_zh"] == "遗漏"
    assert rows["周卧床"]["sampling_status_zh"] == "拒绝"
    assert "赵外出" not in rows  # away: nobody at home to sample
    assert "已删除" not in rows


def test_isolation_ledger_follows_up_today_and_computes_the_end(town: list[dict[str, Any]]) -> None:
    rows = build_ledger("isolation", town, today=TODAY).as_dicts()
    assert [r["name"] for r in rows] == ["王芳", "孙结束"]  # in isolation first, then ended
    wang = rows[0]
    assert wang["followup_today_zh"] == "是" and wang["followup_count"] == 2 and wang["flagged_count"] == 1
    assert wang["last_temperature"] == 37.8 and wang["last_symptoms"] == "发热、咳嗽"
    assert wang["isolation_end"] > wang["isolation_start"]


def test_a_followup_that_reached_nobody_is_not_todays_check(town: list[dict[str, Any]]) -> None:
    """No contact and no temperature: an attempt, recorded, but not "今日已随访" (domain.isolation.followup_reached)."""
    wang_id = next(view(e)["id"] for e in town if e["kind"] == "resident" and view(e).get("name") == "王芳")
    attempts = TownBuilder()
    attempts.serial = itertools.count(90_000)  # ids the town does not use
    attempts.add(
        "followup", G1, {"resident": wang_id, "date": TODAY.isoformat(), "contact_made": False, "by": "林网格"}
    )
    earlier = [e for e in town if not (e["kind"] == "followup" and view(e)["date"] == TODAY.isoformat())]
    rows = build_ledger("isolation", [*earlier, *attempts.envelopes.values()], today=TODAY).as_dicts()
    wang = next(r for r in rows if r["name"] == "王芳")
    assert wang["followup_today_zh"] == "否" and wang["followup_count"] == 2


def test_visits_ledger_names_residents_seen_and_health_concerns(town: list[dict[str, Any]]) -> None:
    rows = build_ledger("visits", town, today=TODAY).as_dicts()
    assert [r["visited_at"] for r in rows] == sorted((r["visited_at"] for r in rows), reverse=True)
    met = next(r for r in rows if r["residents_seen"])
    assert met["residents_seen"] == "陈大明" and met["health_flags"] == "陈大明:发热" and met["follow_up_zh"] == "是"
    assert {r["outcome_zh"] for r in rows} == {"已见面", "无人在家"}


def test_rows_sort_by_grid_then_building_in_natural_order(town: list[dict[str, Any]]) -> None:
    rows = build_ledger("special_groups", town, today=TODAY).as_dicts()
    buildings = [(r["grid_name"], r["building"]) for r in rows]
    assert buildings.index(("第一网格", "3")) < buildings.index(("第一网格", "12"))
    assert [r["grid_name"] for r in rows] == sorted(r["grid_name"] for r in rows)
    floating = build_ledger("floating", town, today=TODAY).as_dicts()
    assert [r["name"] for r in floating] == ["李强", "王芳"]


@pytest.mark.parametrize("name", ["residents", "floating", "special_groups", "isolation"])
def test_id_numbers_and_phones_are_masked_unless_asked(name: str, demo: list[dict[str, Any]]) -> None:
    numbers = {r["id_number"] for r in live(demo, "resident")}
    phones = {r["phone"] for r in live(demo, "resident") if r.get("phone")}
    masked = build_ledger(name, demo, today=TODAY)
    cells = {str(cell) for row in masked.rows for cell in row}
    assert not cells & numbers and not cells & phones
    assert all(MASKED_ID.match(r["id_number"]) for r in masked.as_dicts())
    assert all(re.fullmatch(r"\*{7}\d{4}|0\d{2,3}-\*{7,8}", r["phone"]) for r in masked.as_dicts() if r["phone"])
    assert "birth_date" not in masked.as_dicts()[0]
    full = build_ledger(name, demo, today=TODAY, masked=False)
    assert {r["id_number"] for r in full.as_dicts()} <= numbers
    assert len(full.rows) == len(masked.rows)


def test_deleted_records_never_appear(town: list[dict[str, Any]]) -> None:
    for name in load_definitions():
        for row in build_ledger(name, town, today=TODAY).rows:
            assert "已删除" not in row


def test_scope_names_the_grid_or_the_town(town: list[dict[str, Any]]) -> None:
    one_grid = [e for e in town if e["grid"] == town[0]["grid"]]
    assert build_ledger("residents", one_grid, today=TODAY).scope == "城关镇 东门社区 第一网格"
    assert build_ledger("residents", town, today=TODAY).scope == "城关镇（2个网格）"


def test_buildings_typed_full_width_sort_with_their_ascii_forms() -> None:
    """Ａ座 typed with a Chinese input method sorts before B座, and １０ after 9 (one natural order, domain/sorting)."""
    from .town import G1, TownBuilder, person

    t = TownBuilder()
    t.add("grid", G1, {"town": "城关镇", "community": "东门社区", "name": "第一网格", "mode": "normal"})
    for number, building in enumerate(["c座", "B座", "Ａ座", "１０号楼", "9号楼"], start=1):
        household = t.add("household", G1, {"building": building, "room": "101", "address": building})
        t.add(
            "resident",
            G1,
            {"household": household, "name": f"住户{number}", "id_number": person(40, number), "residency": "resident"},
        )
    rows = build_ledger("residents", list(t.envelopes.values()), today=TODAY).as_dicts()
    assert [r["building"] for r in rows] == ["9号楼", "１０号楼", "Ａ座", "B座", "c座"]


def test_a_ledger_from_an_open_store_is_the_ledger_of_its_envelopes(town: list[dict[str, Any]], tmp_path) -> None:
    """On the tablet a ledger reads the store's index and views in place (``Store.reader``): the same rows, in the
    same order, as from copies of every envelope, deleted records and open conflicts included."""
    from field_agent.store import Store

    with Store.create(tmp_path / "store", "correct horse battery staple", grid="grid-1") as store:
        store.apply_pulled(town, next_cursor=1)
        assert any(is_deleted(e) for e in store.records(include_deleted=True))
        for name in load_definitions():
            from_copies = build_ledger(name, store.records(include_deleted=True), today=TODAY)
            assert build_ledger(name, store.reader, today=TODAY) == from_copies, name
