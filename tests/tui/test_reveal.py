"""Showing a full ID number (x on a household): asked first with a reason, audited without the number, masked
again by x, by a timer, or by leaving the screen."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input, Static

from field_agent.domain.idnumber import mask_id_number
from field_agent.tui.screens.household import HouseholdScreen
from field_agent.tui.widgets.prompt import FieldsDialog
from field_agent.tui.widgets.resident_form import ResidentForm

from .conftest import household_by_head, settle, unlocked


def shown_ids(screen: HouseholdScreen) -> dict[str, str]:
    """Resident id -> the ID number cell as the household screen shows it."""
    table = screen.query_one("#residents", DataTable)
    return {row_key.value: str(table.get_row(row_key)[2]) for row_key in table.rows}


def reveals(app) -> list[dict]:
    return [entry for entry in app.session.store.meta_get("audit") or [] if entry.get("action") == "reveal"]


async def open_household(pilot, demo) -> tuple[HouseholdScreen, dict]:
    """The household screen of 陈峰林, and the resident its cursor is on."""
    household = household_by_head(demo, "陈峰林")
    await unlocked(pilot)
    screen = HouseholdScreen(household["id"])
    await pilot.app.push_screen(screen)
    await settle(pilot)
    selected = screen.selected_resident()
    assert selected is not None and selected["id_number"]
    return screen, demo["resident"][selected["id"]]


async def reveal(pilot, reason: str, key: str = "x") -> None:
    await pilot.press(key)
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, FieldsDialog)
    dialog.query_one("#field-reason", Input).value = reason
    await pilot.press("enter")
    await settle(pilot)


async def test_x_asks_first_and_shows_nothing_until_confirmed(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        screen, resident = await open_household(pilot, demo)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, FieldsDialog)
        assert "审计" in str(app.screen.query_one(".dialog-title", Static).render())
        assert resident["id_number"] not in shown_ids(screen).values()
        await pilot.press("enter")  # no reason given: the dialog stays, nothing is shown
        await settle(pilot)
        assert isinstance(app.screen, FieldsDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert shown_ids(screen)[resident["id"]] == mask_id_number(resident["id_number"])
        assert reveals(app) == []


async def test_confirmed_reveal_shows_one_number_and_writes_one_audit_entry(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        screen, resident = await open_household(pilot, demo)
        await reveal(pilot, "核对身份，办理低保")
        shown = shown_ids(screen)
        assert shown[resident["id"]] == resident["id_number"]
        others = [r for r in demo["resident"].values() if r["household"] == resident["household"] and r is not resident]
        assert others and all(shown[r["id"]] == mask_id_number(r["id_number"]) for r in others)
        [entry] = reveals(app)
        assert entry["record"] == resident["id"] and entry["household"] == resident["household"]
        assert entry["reason"] == "核对身份，办理低保" and entry["fields"] == ["id_number", "phone"]
        assert entry["actor"] == app.session.worker and entry["seconds"] == 30
        assert entry["at"].startswith("2026-11-30T09:30:00")
        assert resident["id_number"] not in json.dumps(entry, ensure_ascii=False)
        assert resident["id_number"][-4:] not in json.dumps(entry, ensure_ascii=False)
        await pilot.press("x")  # x again masks at once, without asking
        await settle(pilot)
        assert app.screen is screen and shown_ids(screen)[resident["id"]] == mask_id_number(resident["id_number"])
        assert len(reveals(app)) == 1


async def test_leaving_the_screen_masks_the_number_again(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        screen, resident = await open_household(pilot, demo)
        await reveal(pilot, "核对身份")
        assert shown_ids(screen)[resident["id"]] == resident["id_number"]
        await pilot.press("v")  # the visit screen opens over it
        await settle(pilot)
        assert app.screen is not screen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert shown_ids(screen)[resident["id"]] == mask_id_number(resident["id_number"])
        assert screen.reveal_timer is None


async def test_the_timer_masks_the_number_again(app_factory, demo) -> None:
    clock = [1000.0]
    app = app_factory(idle_clock=lambda: clock[0])
    async with app.run_test(size=(160, 48)) as pilot:
        app.session.set_setting("reveal_seconds", 20)
        screen, resident = await open_household(pilot, demo)
        await reveal(pilot, "核对身份")
        assert screen.reveal_timer is not None  # checks the clock while the number is shown
        clock[0] += 19
        screen.check_reveal()  # what the timer runs
        await settle(pilot)
        assert shown_ids(screen)[resident["id"]] == resident["id_number"]
        clock[0] += 1
        screen.check_reveal()
        await settle(pilot)
        assert app.screen is screen
        assert shown_ids(screen)[resident["id"]] == mask_id_number(resident["id_number"])
        assert screen.reveal_timer is None
        assert reveals(app)[0]["seconds"] == 20


async def test_correcting_a_resident_shows_the_stored_number_only_after_the_same_question(app_factory, demo) -> None:
    clock = [1000.0]
    app = app_factory(idle_clock=lambda: clock[0])
    async with app.run_test(size=(160, 48)) as pilot:
        _screen, resident = await open_household(pilot, demo)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ResidentForm)
        id_field = form.query_one("#id_number", Input)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, FieldsDialog) and id_field.password
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form and id_field.password and reveals(app) == []
        await reveal(pilot, "号码可能录错", key="ctrl+r")
        assert app.screen is form and not id_field.password
        [entry] = reveals(app)
        assert entry["record"] == resident["id"] and entry["fields"] == ["id_number"]
        assert resident["id_number"] not in json.dumps(entry, ensure_ascii=False)
        clock[0] += 30
        form.check_reveal()  # what its timer runs
        await settle(pilot)
        assert id_field.password
