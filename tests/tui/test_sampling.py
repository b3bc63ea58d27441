"""Home sampling: marks saved to the round, reasons required, the "nobody left out" list, a new round."""

from __future__ import annotations

import unicodedata
from datetime import date

from textual.widgets import DataTable, Input, Static

from field_agent.domain.idnumber import make_id_number
from field_agent.tui.screens.sampling import SamplingScreen
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.prompt import FieldsDialog

from .conftest import reopen_records, settle, unlocked


async def open_sampling(pilot) -> SamplingScreen:
    await pilot.press("f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SamplingScreen)
    return screen


async def show_left_out(pilot, screen: SamplingScreen) -> list[str]:
    if not screen.left_out_only:
        await pilot.press("l")
    return [row.resident["id"] for row in screen.shown]


async def test_mark_sampled_removes_the_resident_from_the_left_out_list(app_factory, demo, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sampling(pilot)
        before = await show_left_out(pilot, screen)
        assert before, "the demo round leaves some eligible residents unsampled"
        assert f"not yet sampled: {len(before)}" in str(screen.query_one("#coverage-text", Static).content)
        target = before[0]
        await pilot.press("s")
        await settle(pilot)
        after = [row.resident["id"] for row in screen.shown]
        assert target not in after and len(after) == len(before) - 1
        round_id = screen.coverage.round["id"]
        samplings = await reopen_records(pilot, store_path, "sampling")
    marked = [s for s in samplings if s["resident"] == target and s["round"] == round_id]
    assert len(marked) == 1
    assert marked[0]["status"] == "sampled"
    assert marked[0]["by"] == "陈倩" and marked[0]["sampled_at"].startswith("2026-11-30T09:30")


async def test_exempt_needs_a_reason_then_is_saved(app_factory, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sampling(pilot)
        target = (await show_left_out(pilot, screen))[0]
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog)
        await pilot.press("enter")  # empty reason: refused, dialog stays
        assert app.screen is dialog
        dialog.query_one("#field-reason", Input).value = "in hospital since Monday"
        await pilot.press("enter")
        await settle(pilot)
        assert target not in [row.resident["id"] for row in screen.shown]
        samplings = await reopen_records(pilot, store_path, "sampling")
    entry = next(s for s in samplings if s["resident"] == target and s["status"] == "exempt")
    assert entry["reason"] == "in hospital since Monday"


async def test_schedule_sets_time_and_team(app_factory, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sampling(pilot)
        target = (await show_left_out(pilot, screen))[0]
        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one("#field-when", Input).value = "14:30"
        app.screen.query_one("#field-team", Input).value = "Team 2"
        app.screen.query_one("#field-team", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        table = screen.query_one("#sampling-table", DataTable)
        row = table.get_row_at(table.cursor_row)
        assert "Team 2" in str(row[[str(c.key.value) for c in table.ordered_columns].index("schedule")])
        samplings = await reopen_records(pilot, store_path, "sampling")
    entry = next(s for s in samplings if s["resident"] == target and s.get("team") == "Team 2")
    assert entry["scheduled_at"] == "2026-11-30T14:30:00+08:00"


async def test_new_round_closes_the_old_one(app_factory, demo, store_path) -> None:
    old_round = next(iter(demo["sampling_round"].values()))
    app = app_factory()
    async with app.run_test() as pilot:
        await unlocked(pilot)
        screen = await open_sampling(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "未采样" in str(app.screen.query_one("#confirm-question", Static).content)
        await pilot.press("y")
        await settle(pilot)
        assert screen.coverage is not None and screen.coverage.round["id"] != old_round["id"]
        assert screen.coverage.done == 0
        rounds = await reopen_records(pilot, store_path, "sampling_round")
    by_id = {r["id"]: r for r in rounds}
    assert by_id[old_round["id"]]["status"] == "closed"
    new = [r for r in rounds if r["id"] != old_round["id"]]
    assert len(new) == 1 and new[0]["status"] == "open" and new[0]["name"] == "第2轮（2026-11-30）"


async def test_left_out_list_is_in_natural_building_order(app_factory) -> None:
    """1号楼, 2号楼, …, 10号楼, 11号楼: not 10号楼, 11号楼, 1号楼 as plain text sorts them (issue 15, item 7)."""
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        for building, number in (("10号楼", 1), ("11号楼", 2), ("１２号楼", 3)):  # the last typed full-width
            household = app.session.save("household", {"building": building, "room": "101", "address": building})
            resident = {
                "household": household["id"],
                "name": f"居家{number}",
                "id_number": make_id_number("350181", date(1980, 1, number), number, "male"),
                "residency": "resident",
                "isolation_status": "home",
                "isolation_start": "2026-11-29",
            }
            app.session.save("resident", resident)
        screen = await open_sampling(pilot)
        await pilot.press("n")  # a new round: every eligible resident is left out again, in every building
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await show_left_out(pilot, screen)
        table = screen.query_one("#sampling-table", DataTable)
        shown = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    buildings = [building for building in shown if building]
    numbers = [int(unicodedata.normalize("NFKC", building).removesuffix("号楼")) for building in buildings]
    assert {10, 11, 12} <= set(numbers)
    assert numbers == sorted(numbers), buildings
