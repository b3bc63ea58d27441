"""Every time on screen is in the town's zone (Beijing unless set), whatever zone it was stored in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from field_agent.store import Store
from field_agent.tui.screens.sync import SyncScreen
from field_agent.tui.timefmt import short_time, town_date, town_time, town_zone

from .conftest import PASSPHRASE, settle, unlocked
from .test_sync import open_a_conflict


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-11-30T01:15:00+00:00", "2026-11-30 09:15"),  # UTC, as the sync agent writes the last sync
        ("2026-11-30T01:15:00Z", "2026-11-30 09:15"),
        ("2026-11-29T17:30:00+00:00", "2026-11-30 01:30"),  # the next day in Beijing
        ("2026-11-30T09:15:00+08:00", "2026-11-30 09:15"),  # a visit, written in Beijing time
        ("2026-11-30T10:15:00+09:00", "2026-11-30 09:15"),
        ("2026-11-30T09:15:00", "2026-11-30 09:15"),  # no offset: the town's wall clock
        (1_796_001_300_000, "2026-11-30 09:15"),  # milliseconds since the epoch (a stamp's time)
        ("", ""),
        (None, ""),
        ("not a time", "not a time"),
    ],
)
def test_any_stored_time_is_shown_in_beijing_time(stored: object, shown: str) -> None:
    assert short_time(stored) == shown


def test_the_town_zone_can_be_another_one() -> None:
    assert short_time("2026-11-30T01:15:00+00:00", town_zone("Asia/Urumqi")) == "2026-11-30 07:15"
    assert town_zone("No/Such_Zone") == town_zone() == town_zone(None)
    assert town_date("2026-11-29T17:30:00+00:00") == "2026-11-30"
    assert town_date("2026-11-29") == "2026-11-29"
    moment = town_time(datetime(2026, 11, 30, 1, 15, tzinfo=UTC))
    assert moment is not None and moment.utcoffset() == timedelta(hours=8) and moment.hour == 9


def _set_last_sync(store_path: Path, at: str) -> None:
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set("last_sync", {"at": at, "ok": True, "pushed": 1, "pulled": 2, "error": None})


async def test_last_sync_stored_in_utc_is_shown_in_beijing_time(app_factory, store_path: Path) -> None:
    _set_last_sync(store_path, "2026-11-30T01:15:00+00:00")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        today = str(app.screen.query_one("#card-sync", Static).content)
        assert "2026-11-30 09:15" in today and "01:15" not in today
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        state = str(app.screen.query_one("#sync-state", Static).content)
        assert "上次同步：2026-11-30 09:15" in state


async def test_conflict_times_are_shown_in_beijing_time(app_factory, demo, store_path: Path) -> None:
    resident = next(r for r in demo["resident"].values() if r.get("phone"))
    open_a_conflict(store_path, resident["id"])
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        entry = screen.conflicts[0]
        beijing = timezone(timedelta(hours=8))
        for side in ("winner", "loser"):
            utc = datetime.fromisoformat(entry[side]["at"])
            assert utc.utcoffset() == timedelta(0)
            shown = str(screen.query_one(f"#side-{side}", Static).content)
            assert utc.astimezone(beijing).strftime("%Y-%m-%d %H:%M") in shown
            assert utc.strftime("%Y-%m-%d %H:%M") not in shown
        opened = datetime.fromisoformat(entry["opened_at"]).astimezone(beijing).strftime("%Y-%m-%d %H:%M")
        table = screen.query_one("#conflicts", DataTable)
        assert str(table.get_row_at(0)[-1]) == opened


async def test_a_town_zone_set_in_the_store_is_used(app_factory, store_path: Path) -> None:
    _set_last_sync(store_path, "2026-11-30T01:15:00+00:00")
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set("time_zone", "Asia/Urumqi")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        assert "2026-11-30 07:15" in str(app.screen.query_one("#card-sync", Static).content)
