"""Three tablets of one grid edit offline, then sync in every order against a real server: same end state."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from field_agent.domain.envelope import open_conflicts, set_members
from field_agent.store import Store

from .harness import Town, enrolled, live, replica, server_state, sync

ORDERS = list(itertools.permutations(range(3)))
PHONES = ("13800138001", "13800138002", "13800138003")


def open_conflict_ids(state: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (record_id, cid)
        for record_id, envelope in state.items()
        for cid, conflict in envelope["conflicts"].items()
        if not conflict.get("resolved")
    }


async def three_tablets(town: Town, tmp_path: Path) -> tuple[str, list[Store], dict[str, str]]:
    grid = town.new_grid()
    tablets = [await enrolled(town, grid, tmp_path, name) for name in ("a", "b", "c")]
    a = tablets[0]
    ids = {
        "h1": a.put("household", {"address": "3栋2单元501", "phone": "13800138000"}, set_changes={"tags": {"x": True}})[
            "id"
        ],
        "h2": a.put("household", {"address": "3栋2单元502", "head": "王芳"})["id"],
        "h3": a.put("household", {"address": "3栋2单元503", "notes": "old"})["id"],
    }
    for tablet in tablets:
        await sync(tablet)
    await sync(a)
    return grid, tablets, ids


def edit_offline(tablets: list[Store], ids: dict[str, str]) -> None:
    a, b, c = tablets
    for tablet, phone in zip(tablets, PHONES, strict=True):
        tablet.put("household", {"phone": phone}, record_id=ids["h1"])  # same field, three values
    a.put("household", {"notes": "钥匙在邻居家"}, record_id=ids["h2"])  # different fields of one record
    b.put("household", {"head": "李强"}, record_id=ids["h2"])
    a.put("household", {}, record_id=ids["h1"], set_changes={"tags": {"a": True}})  # different tags on one set
    c.put("household", {}, record_id=ids["h1"], set_changes={"tags": {"c": True}})
    b.put("household", {}, record_id=ids["h1"], set_changes={"tags": {"x": False}})
    a.delete(ids["h3"])  # edit against delete
    b.put("household", {"notes": "new tenant moved in"}, record_id=ids["h3"])
    for tablet, name in zip(tablets, "abc", strict=True):  # new visits
        tablet.put(
            "visit",
            {"household": ids["h2"], "visited_at": "2026-11-30T09:15:00+08:00", "worker": name, "outcome": "met"},
        )


@pytest.mark.parametrize("order", ORDERS, ids=["".join("abc"[i] for i in order) for order in ORDERS])
async def test_offline_edits_converge_in_every_sync_order(town: Town, tmp_path: Path, order: tuple[int, ...]) -> None:
    grid, tablets, ids = await three_tablets(town, tmp_path)
    edit_offline(tablets, ids)
    phone_stamps = sorted(tablet.get(ids["h1"])["stamps"]["phone"] for tablet in tablets)
    for _ in range(2):
        for index in order:
            await sync(tablets[index])

    expected = server_state(town, grid)
    for tablet in tablets:
        assert replica(tablet) == expected
        assert tablet.pending_count() == 0
    h1, h2, h3 = (expected[ids[name]] for name in ("h1", "h2", "h3"))
    assert h1["stamps"]["phone"] == phone_stamps[-1]
    assert set_members(h1, "tags") == ["a", "c"]
    assert (h2["fields"]["notes"], h2["fields"]["head"]) == ("钥匙在邻居家", "李强")
    assert not live(h3) and h3["fields"]["notes"] == "new tenant moved in"
    visits = [e for e in expected.values() if e["kind"] == "visit"]
    assert sorted(v["fields"]["worker"] for v in visits) == ["a", "b", "c"]

    conflicts = open_conflict_ids(expected)
    losers = {(ids["h1"], f"phone@{stamp}") for stamp in phone_stamps[:2]}
    delete = {(rid, cid) for rid, cid in conflicts if rid == ids["h3"]}
    assert conflicts == losers | delete
    assert len(delete) == 1 and next(iter(delete))[1].startswith("_deleted@")
    for tablet in tablets:
        assert len(tablet.open_conflicts()) == 3


async def test_a_resolution_closes_the_conflict_on_every_tablet(town: Town, tmp_path: Path) -> None:
    grid, tablets, ids = await three_tablets(town, tmp_path)
    edit_offline(tablets, ids)
    for _ in range(2):
        for tablet in tablets:
            await sync(tablet)
    b = tablets[1]
    for envelope, cid, conflict in b.open_conflicts():
        if conflict["field"] == "phone":
            b.resolve_conflict(envelope["id"], cid, choice="value", value="13900139000")
        else:
            b.resolve_conflict(envelope["id"], cid, choice="mine")  # b edited h3: keep the household
    for _ in range(2):
        for tablet in tablets:
            await sync(tablet)
    expected = server_state(town, grid)
    assert not open_conflict_ids(expected)
    assert expected[ids["h1"]]["fields"]["phone"] == "13900139000"
    assert live(expected[ids["h3"]])
    for tablet in tablets:
        assert tablet.open_conflicts() == []
        assert replica(tablet) == expected


async def test_a_tablet_that_deletes_then_edits_before_syncing_has_no_conflict_with_itself(
    town: Town, tmp_path: Path
) -> None:
    grid = town.new_grid()
    tablet = await enrolled(town, grid, tmp_path, "self")
    record = tablet.put("household", {"address": "9栋1单元101", "head": "刘洋", "notes": "旧"})["id"]
    await sync(tablet)
    tablet.delete(record)
    tablet.put("household", {"notes": "删除后又补了一句"}, record_id=record)  # same tablet, still unsent
    result = await sync(tablet)
    assert (result.new_conflicts, result.conflicts) == (0, 0)
    state = server_state(town, grid)
    assert open_conflicts(state[record]) == {}  # the deletion is kept on the record, with nothing against it
    assert state[record]["fields"]["notes"] == "删除后又补了一句" and not live(state[record])
    assert replica(tablet) == state


async def test_the_server_refuses_deleting_a_household_another_tablet_added_a_resident_to(
    town: Town, tmp_path: Path
) -> None:
    from store.conftest import resident_values

    grid = town.new_grid()
    a, b = [await enrolled(town, grid, tmp_path, name) for name in ("a", "b")]
    household = a.put("household", {"address": "6栋3单元202"})["id"]
    await sync(a)
    await sync(b)
    resident = b.put("resident", resident_values(household, "陈静"))["id"]
    await sync(b)
    a.delete(household)  # a has not heard of the resident yet: its own check lets the deletion through
    result = await sync(a)
    assert result.refused == 1
    [refused] = a.refused_changes()
    assert refused["code"] == "household_has_residents" and "1 resident(s)" in refused["reason"]
    assert "陈静" not in refused["reason"]
    state = server_state(town, grid)
    assert live(state[household]) and live(state[resident])
    assert replica(a) == state  # rolled back on the tablet, and the resident pulled
    b.delete(resident)
    b.delete(household)  # the resident first, then the household: accepted
    assert (await sync(b)).refused == 0
    assert not live(server_state(town, grid)[household])


async def test_a_resident_is_never_put_in_a_deleted_household_on_the_tablet_or_the_server(
    town: Town, tmp_path: Path
) -> None:
    """The converse of the rule above: a household deleted on one tablet cannot take a resident another tablet
    adds before it hears of the deletion; the server refuses the resident, which the tablet rolls back, and nothing
    points at a deleted household anywhere."""
    from store.conftest import resident_values

    from field_agent.domain.errors import ValidationError

    grid = town.new_grid()
    a, b = [await enrolled(town, grid, tmp_path, name) for name in ("a", "b")]
    household = a.put("household", {"address": "6栋3单元202"})["id"]
    other = a.put("household", {"address": "6栋3单元203"})["id"]
    await sync(a)
    await sync(b)
    a.delete(household)
    with pytest.raises(ValidationError) as refused_here:  # on the tablet that deleted it: refused before saving
        a.put("resident", resident_values(household, "陈静"))
    assert [(e.field, e.key) for e in refused_here.value.errors] == [("household", "resident.household_gone")]
    await sync(a)
    resident = b.put("resident", resident_values(household, "林芳"))["id"]  # b has not heard of the deletion
    moved = b.put("resident", resident_values(other, "郑华"))["id"]
    result = await sync(b)
    assert result.refused == 1
    [refused] = b.refused_changes()
    assert (refused["change"]["record"], refused["code"]) == (resident, "household_gone")
    assert "林芳" not in refused["reason"]
    state = server_state(town, grid)
    assert resident not in state and live(state[moved]) and not live(state[household])
    assert replica(b) == state  # the refused resident rolled back, the deletion pulled
