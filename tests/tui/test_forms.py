"""Every dialog keeps what was typed when something is wrong (the error beside the field), saves with Ctrl+S and
shows the key; the one-key saves (a sampling mark, a visit outcome) can be undone with Ctrl+Z for a few seconds."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, DataTable, Input, Static

from field_agent.tui.screens.isolation import IsolationScreen
from field_agent.tui.screens.sampling import SamplingScreen
from field_agent.tui.screens.tasks import TasksScreen
from field_agent.tui.screens.visit import VisitScreen
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.followup_form import FollowUpForm
from field_agent.tui.widgets.form_dialog import FormDialog
from field_agent.tui.widgets.prompt import FieldsDialog

from .conftest import household_by_head, reopen_records, settle, spy_notes, unlocked


async def open_followup(pilot) -> tuple[IsolationScreen, FollowUpForm]:
    await pilot.press("f4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, IsolationScreen)
    await pilot.press("c")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FollowUpForm)
    return screen, form


async def test_a_bad_temperature_keeps_the_followup_open_with_everything_typed(app_factory, store_path) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen, form = await open_followup(pilot)
        resident_id = screen.rows[0].resident["id"]
        form.query_one("#temperature", Input).value = "382"
        form.query_one("#symptom-cough", Checkbox).value = True
        form.query_one("#needs", Input).value = "买退烧药"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form, "a bad value must not close the dialog"
        assert form.query_one("#temperature", Input).value == "382"
        assert form.query_one("#symptom-cough", Checkbox).value is True
        assert form.query_one("#needs", Input).value == "买退烧药"
        beside = form.query_one("#error-temperature", Static)
        assert str(beside.content) and "43" in str(beside.content)
        field = form.query_one("#temperature", Input)
        assert field.has_class("-invalid")
        assert field.size.height == 1, "a one-line input marked invalid keeps its text visible (no border over it)"
        form.query_one("#temperature", Input).value = "38.2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IsolationScreen)
        followups = await reopen_records(pilot, store_path, "followup")
    todays = [f for f in followups if f["resident"] == resident_id and f["date"] == "2026-11-30"]
    assert [(f["temperature"], f["symptoms"], f["needs"]) for f in todays] == [(38.2, ["cough"], "买退烧药")]


async def test_a_followup_that_reached_nobody_is_recorded_but_not_counted_as_checked(app_factory, store_path) -> None:
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen, form = await open_followup(pilot)
        resident_id = screen.rows[0].resident["id"]
        form.query_one("#contact_made", Checkbox).value = False
        await pilot.pause()
        assert "未联系上" in str(form.query_one("#flag-warning", Static).content)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        row = next(r for r in screen.rows if r.resident["id"] == resident_id)
        assert not row.checked_today and row.attempted_today
        table = screen.query_one("#isolation-table", DataTable)
        assert "未联系上" in str(table.get_row(resident_id)[3])
        assert "已随访 0" in str(screen.query_one("#isolation-summary", Static).content)
        assert any("未联系上" in note for note in notes)
        followups = await reopen_records(pilot, store_path, "followup")
    todays = [f for f in followups if f["resident"] == resident_id and f["date"] == "2026-11-30"]
    assert [(f["contact_made"], f.get("temperature")) for f in todays] == [(False, None)]


async def test_every_dialog_saves_with_ctrl_s_and_shows_the_key(app_factory, demo, store_path) -> None:
    task = next(t for t in demo["task"].values() if t["task_kind"] != "publicity" and t["status"] == "open")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        table = screen.query_one("#tasks-table", DataTable)
        table.move_cursor(row=next(i for i, row in enumerate(screen.rows) if row["id"] == task["id"]))
        await pilot.press("d")  # complete: a FieldsDialog, like the appointment and the conflict's value
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog) and isinstance(dialog, FormDialog)
        assert "Ctrl+S" in str(dialog.query_one("#save", Button).label)
        dialog.query_one("#field-notes", Input).value = "已送达"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        tasks = await reopen_records(pilot, store_path, "task")
    done = next(t for t in tasks if t["id"] == task["id"])
    assert (done["status"], done["notes"]) == ("done", "已送达")


async def test_a_bad_appointment_time_keeps_the_dialog_open_with_the_error_beside_it(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog)
        dialog.query_one("#field-when", Input).value = "下下周八点半"
        dialog.query_one("#field-team", Input).value = "第二组"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog
        assert dialog.query_one("#field-when", Input).value == "下下周八点半"
        assert dialog.query_one("#field-team", Input).value == "第二组"
        assert str(dialog.query_one("#error-field-when", Static).content)


async def test_a_one_key_sampling_mark_can_be_undone(app_factory, store_path) -> None:
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SamplingScreen)
        await pilot.press("l")
        row = screen.shown[0]
        before = dict(row.sampling) if row.sampling else None
        await pilot.press("s")
        await settle(pilot)
        assert any("Ctrl+Z" in note and row.resident["name"] in note for note in notes)
        assert row.resident["id"] not in [r.resident["id"] for r in screen.shown]
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert row.resident["id"] in [r.resident["id"] for r in screen.shown]
        assert any(note.startswith("已撤销") for note in notes)
        samplings = await reopen_records(pilot, store_path, "sampling")
    round_id = screen.coverage.round["id"]
    now = [s for s in samplings if s["resident"] == row.resident["id"] and s["round"] == round_id]
    if before is None:
        assert now == []
    else:
        assert [(s["status"], s.get("sampled_at")) for s in now] == [(before["status"], before.get("sampled_at"))]


async def test_a_one_key_visit_outcome_can_be_undone_after_the_visit_screen_closed(
    app_factory, demo, store_path
) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f2")
        await settle(pilot)
        app.push_screen(VisitScreen(household["id"]))
        await settle(pilot)
        await pilot.press("3")  # refused: saved at once
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert any("Ctrl+Z" in note for note in notes)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert any(note.startswith("已撤销") for note in notes)
        visits = await reopen_records(pilot, store_path, "visit")
    assert not [v for v in visits if v["household"] == household["id"] and v["outcome"] == "refused"]


async def test_ctrl_z_after_the_offer_ran_out_undoes_nothing(app_factory, store_path) -> None:
    clock = [1000.0]
    app = app_factory(idle_clock=lambda: clock[0])
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SamplingScreen)
        await pilot.press("l")
        target = screen.shown[0].resident["id"]
        await pilot.press("s")
        await settle(pilot)
        clock[0] += 60
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert notes[-1] == app.t("undo.nothing")
        samplings = await reopen_records(pilot, store_path, "sampling")
    assert [
        s["status"] for s in samplings if s["resident"] == target and s["round"] == screen.coverage.round["id"]
    ] == ["sampled"]


async def test_a_temperature_typed_key_by_key_is_saved(app_factory, store_path) -> None:
    """As a worker types it: 3, 6, ., 6 pressed into the dialog the moment it opens."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen, form = await open_followup(pilot)
        resident_id = screen.rows[0].resident["id"]
        await pilot.press("3", "6", ".", "6")
        assert form.query_one("#temperature", Input).value == "36.6"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IsolationScreen), str(form.query_one("#error-temperature", Static).content)
        followups = await reopen_records(pilot, store_path, "followup")
    todays = [f for f in followups if f["resident"] == resident_id and f["date"] == "2026-11-30"]
    assert [f["temperature"] for f in todays] == [36.6]


async def test_changing_screens_ends_the_undo_offer_and_its_toast(app_factory, store_path) -> None:
    """At 80 columns the toasts of the last screen would cover half of the next one, and Ctrl+Z there would undo
    something no longer shown: a main-screen change ends both; the mark stays saved."""
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SamplingScreen)
        await pilot.press("l")
        row = screen.shown[0]
        await pilot.press("s")
        await settle(pilot)
        assert any("Ctrl+Z" in note for note in notes)
        await pilot.press("f5")
        await settle(pilot)
        assert not app.screen.query("Toast")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert not any(note.startswith("已撤销") for note in notes)
        samplings = await reopen_records(pilot, store_path, "sampling")
    round_id = screen.coverage.round["id"]
    assert [s["status"] for s in samplings if s["resident"] == row.resident["id"] and s["round"] == round_id] == [
        "sampled"
    ]
