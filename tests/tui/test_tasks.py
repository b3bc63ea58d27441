"""Role tasks: complete with notes and coverage, the leader creates tasks and switches mode after confirming."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Static

from field_agent.store import Store
from field_agent.tui.screens.tasks import TasksScreen
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.prompt import FieldsDialog
from field_agent.tui.widgets.task_form import TaskForm

from .conftest import PASSPHRASE, reopen_records, settle, unlocked


async def open_tasks(pilot) -> TasksScreen:
    await pilot.press("f5")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TasksScreen)
    return pilot.app.screen


async def select_task(pilot, screen: TasksScreen, title: str) -> dict:
    table = screen.query_one("#tasks-table", DataTable)
    index = next(i for i, task in enumerate(screen.rows) if task["title"] == title)
    table.move_cursor(row=index)
    await pilot.pause()
    return screen.rows[index]


async def test_publicity_task_completed_with_notes_and_buildings(app_factory, demo, store_path) -> None:
    task = next(t for t in demo["task"].values() if t["task_kind"] == "publicity" and t["status"] != "done")
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_tasks(pilot)
        await select_task(pilot, screen, task["title"])
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog)
        dialog.query_one("#field-notes", Input).value = "posters up"
        dialog.query_one("#field-coverage", Input).value = "3号楼，4号楼"
        dialog.query_one("#field-coverage", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        tasks = await reopen_records(pilot, store_path, "task")
    done = next(t for t in tasks if t["id"] == task["id"])
    assert done["status"] == "done" and done["notes"] == "posters up"
    assert {"3号楼", "4号楼"} <= set(done["coverage"])


async def test_leader_creates_a_task(app_factory, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await open_tasks(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TaskForm)
        form.query_one("#title", Input).value = "Deliver medicine to 3号楼"
        form.query_one("#task_kind", Select).value = "delivery"
        form.query_one("#slot", Select).value = "service"
        form.query_one("#assignee", Select).value = "许健军"
        await pilot.press("ctrl+s")
        await settle(pilot)
        tasks = await reopen_records(pilot, store_path, "task")
    new = [t for t in tasks if t["title"] == "Deliver medicine to 3号楼"]
    assert len(new) == 1
    assert (new[0]["task_kind"], new[0]["role"], new[0]["assignee"], new[0]["status"], new[0]["due"]) == (
        "delivery",
        "service",
        "许健军",
        "open",
        "2026-11-30",
    )


async def test_switch_to_wartime_shows_who_moves_then_moves_them(app_factory, demo, store_path) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await open_tasks(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        question = str(app.screen.query_one("#confirm-question", Static).content)
        assert "WARTIME" in question
        assert "王勇刚: Information officer → Tracing" in question
        await pilot.press("y")
        await settle(pilot)
        assert "Wartime" in str(app.screen.query_one("#tasks-mode", Static).content)
        grids = await reopen_records(pilot, store_path, "grid")
        tasks = await reopen_records(pilot, store_path, "task")
    grid = grids[0]
    assert grid["mode"] == "wartime"
    assert {m["name"]: m["group"] for m in grid["members"]}["王勇刚"] == "tracing"
    open_tasks_after = [t for t in tasks if t["status"] in ("open", "in_progress")]
    assert open_tasks_after and all(t.get("group") for t in open_tasks_after)


async def test_the_switch_preview_names_the_group_a_publicity_officer_moves_to(app_factory, demo) -> None:
    grid = next(iter(demo["grid"].values()))
    publicity = next(m["name"] for m in grid["members"] if m.get("role") == "publicity")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await open_tasks(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        question = str(app.screen.query_one("#confirm-question", Static).content)
    assert f"{publicity}: 宣传员 → 宣传引导组" in question


async def test_a_worker_who_is_not_the_leader_cannot_switch_mode(app_factory, store_path) -> None:
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set("worker", "刘逸梓")
        store.meta_set("role", "worker")
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_tasks(pilot)
        assert not any(button.display for button in screen.query(".leader-only"))
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        grids = await reopen_records(pilot, store_path, "grid")
    assert grids[0]["mode"] == "normal"


async def test_temporary_members_are_listed_with_their_last_day_or_as_ended(app_factory, store_path) -> None:
    """A volunteer's tablet says whose it is and until when (Today); the board names each temporary member's kind
    and last day, and a member past it as ended (the demo's today is 2026-11-30)."""
    from field_agent.domain.envelope import view

    with Store.open(store_path, PASSPHRASE) as store:
        grid = next(view(envelope) for envelope in store.records("grid"))
        members = [
            *grid["members"],
            {"name": "赵志愿", "temporary": "volunteer", "until": "2026-12-31", "role": "service", "group": "sampling"},
            {"name": "钱干部", "temporary": "cadre", "until": "2026-11-29", "role": "service", "group": "sampling"},
        ]
        store.put("grid", {"members": members}, record_id=grid["id"])
        store.meta_set("role", "volunteer")
        store.meta_set("until", "2026-12-31")
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        assert "volunteer until 2026-12-31" in str(app.screen.query_one("#mode-banner", Static).content)
        screen = await open_tasks(pilot)
        text = str(screen.query_one("#tasks-members", Static).content)
        assert "赵志愿 (volunteer, until 2026-12-31)" in text
        assert "钱干部 (cadre sent down, ended)" in text
