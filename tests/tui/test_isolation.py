"""Home isolation: day n of m, today's check saved, a fever flagged to the grid leader as a task."""

from __future__ import annotations

from datetime import date

from textual.widgets import Checkbox, DataTable, Input, Static

from field_agent.store import Store
from field_agent.tui.screens.isolation import IsolationScreen
from field_agent.tui.widgets.followup_form import FollowUpForm

from .conftest import PASSPHRASE, reopen_records, settle, spy_notes, unlocked


async def record_check(pilot, temperature: str, symptoms: tuple[str, ...] = ()) -> FollowUpForm:
    await pilot.press("c")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FollowUpForm)
    form.query_one("#temperature", Input).value = temperature
    for symptom in symptoms:
        form.query_one(f"#symptom-{symptom}", Checkbox).value = True
    await pilot.pause()
    return form


async def test_fever_is_saved_flagged_and_sent_to_the_leader(app_factory, demo, store_path) -> None:
    isolating = [r for r in demo["resident"].values() if r.get("isolation_status") == "home"]
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IsolationScreen)
        table = screen.query_one("#isolation-table", DataTable)
        assert table.row_count == len(isolating)
        assert "day 3 of 7" in [str(cell) for cell in table.get_row_at(0)]
        form = await record_check(pilot, "38.2", ("cough",))
        assert "grid leader" in str(form.query_one("#flag-warning", Static).content)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "flagged" in str(table.get_row_at(0)[3])
        resident_id = screen.rows[0].resident["id"]
        followups = await reopen_records(pilot, store_path, "followup")
        tasks = await reopen_records(pilot, store_path, "task")
    todays = [f for f in followups if f["resident"] == resident_id and f["date"] == "2026-11-30"]
    assert len(todays) == 1
    assert todays[0]["temperature"] == 38.2 and todays[0]["symptoms"] == ["cough"]
    assert todays[0]["flagged"] is True and todays[0]["contact_made"] is True
    flagged = [t for t in tasks if t["title"].startswith("Fever/red flag")]
    assert len(flagged) == 1 and flagged[0]["assignee"] == "陈倩" and flagged[0]["due"] == "2026-11-30"


async def test_normal_check_is_not_flagged(app_factory, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await pilot.press("f4")
        await settle(pilot)
        form = await record_check(pilot, "36.6")
        assert str(form.query_one("#flag-warning", Static).content) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        tasks_before = len(app.session.model.of_kind("task"))
        followups = await reopen_records(pilot, store_path, "followup")
    todays = [f for f in followups if f["date"] == "2026-11-30" and f["temperature"] == 36.6]
    assert len(todays) == 1 and todays[0]["flagged"] is False
    assert tasks_before == 12


async def test_an_isolation_past_its_days_shows_its_end_and_offers_no_check(app_factory, demo, store_path) -> None:
    """Day 9 of 7 is no day of isolation: the row says when it ended (the ledgers' 预计解除日期) and what to do."""
    resident = next(r for r in demo["resident"].values() if r.get("isolation_status") == "home")
    with Store.open(store_path, PASSPHRASE) as store:  # began 8 days before the frozen today (2026-11-30)
        store.put("resident", {"isolation_start": "2026-11-22", "isolation_days": 7}, record_id=resident["id"])
    app = app_factory()
    shown = spy_notes(app)
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IsolationScreen)
        row = next(r for r in screen.rows if r.resident["id"] == resident["id"])
        assert row.end == date(2026, 11, 29) and row.over and not row.due_today
        table = screen.query_one("#isolation-table", DataTable)
        cells = [str(c) for c in table.get_row(resident["id"])]
        assert cells[2] == "11-29 期满" and cells[3] == "期满待解除"
        table.move_cursor(row=screen.rows.index(row))
        await pilot.press("c")
        await settle(pilot)
        assert not isinstance(app.screen, FollowUpForm)
        assert any("2026-11-29 期满" in m and "已解除" in m for m in shown), shown
