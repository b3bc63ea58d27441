"""Tablets whose clocks are days off still converge; a stamp beyond the server's bound is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_agent.domain.hlc import wall_ms
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent

from .harness import FAST_RETRY, PASSPHRASE, Town, enrolled, replica, server_state, sync

DAY_MS = 86_400_000


def skew(monkeypatch: pytest.MonkeyPatch, store: Store, days: float) -> None:
    monkeypatch.setattr(store.clock, "_now_ms", lambda: wall_ms() + int(days * DAY_MS))


async def test_clocks_three_days_off_converge(town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grid = town.new_grid()
    behind, ahead, right = [await enrolled(town, grid, tmp_path, name) for name in ("behind", "ahead", "right")]
    skew(monkeypatch, behind, -3)
    skew(monkeypatch, ahead, +3)
    tablets = (behind, ahead, right)
    record = behind.put("household", {"address": "5栋1单元101", "notes": "created"})["id"]
    for tablet in tablets:
        await sync(tablet)
    for tablet, phone in zip(tablets, ("13800138001", "13800138002", "13800138003"), strict=True):
        tablet.put("household", {"phone": phone}, record_id=record)
    for _ in range(2):
        for tablet in tablets:
            await sync(tablet)
    state = server_state(town, grid)
    assert all(replica(tablet) == state for tablet in tablets)
    assert state[record]["fields"]["phone"] == "13800138002"  # the tablet three days ahead stamps last
    assert len(state[record]["conflicts"]) == 2

    ahead.put("household", {"notes": "ahead wrote first"}, record_id=record)
    await sync(ahead)
    await sync(behind)
    behind.put("household", {"notes": "behind wrote after seeing it"}, record_id=record)
    await sync(behind)
    for tablet in tablets:
        await sync(tablet)
    state = server_state(town, grid)
    assert state[record]["fields"]["notes"] == "behind wrote after seeing it"
    assert len(state[record]["conflicts"]) == 2
    assert all(replica(tablet) == state for tablet in tablets)


async def test_a_stamp_beyond_the_servers_bound_is_refused_with_the_reason(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = town.new_grid()
    tablet = await enrolled(town, grid, tmp_path, "future")
    good = tablet.put("household", {"address": "1号"})["id"]
    await sync(tablet)
    skew(monkeypatch, tablet, +10)
    bad = tablet.put("household", {"address": "2号"})["id"]
    result = await SyncAgent(tablet, retry=FAST_RETRY).sync()
    assert result.error is None
    assert (result.pushed, result.refused) == (0, 1)
    [refused] = tablet.refused_changes()
    assert refused["change"]["record"] == bad and refused["code"] == "stamp_in_future"
    assert "ahead of the server clock" in refused["reason"] and "date and time" in refused["reason"]
    assert good in town.records(grid) and bad not in town.records(grid)
    assert tablet.pending_count() == 0


async def test_an_edit_after_the_date_is_set_right_wins_over_the_value_it_replaced(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """+3 days (accepted), +10 days (refused, rolled back), date set right: the next edit is not lost."""
    grid = town.new_grid()
    tablet, other = [await enrolled(town, grid, tmp_path, name) for name in ("wrong-date", "other")]
    record = tablet.put("household", {"address": "7栋2单元301", "head": "张三"})["id"]
    await sync(tablet)
    skew(monkeypatch, tablet, +3)
    tablet.put("household", {"head": "李四"}, record_id=record)
    assert (await sync(tablet)).refused == 0
    skew(monkeypatch, tablet, +10)
    tablet.put("household", {"notes": "日期错了"}, record_id=record)
    assert (await sync(tablet)).refused == 1  # refused and rolled back, as documented
    tablet.close()
    tablet = Store.open(tmp_path / "wrong-date", PASSPHRASE)  # the date is right again: the clock restarts
    try:
        assert tablet.repos.households.get(record)["head"] == "李四"
        tablet.put("household", {"head": "王五"}, record_id=record)  # made after seeing 李四
        await sync(tablet)
        await sync(other)
        await sync(tablet)
        state = server_state(town, grid)
        assert state[record]["fields"]["head"] == "王五"
        assert replica(tablet) == state and replica(other) == state
    finally:
        tablet.close()
