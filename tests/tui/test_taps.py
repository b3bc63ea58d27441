"""Every action a key reaches, a tap reaches too (rugged tablets have touch screens): checked with Pilot clicks."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Input

from field_agent.tui.screens.household import HouseholdScreen
from field_agent.tui.screens.sampling import SamplingScreen
from field_agent.tui.screens.sync import SyncScreen
from field_agent.tui.screens.visit import VisitScreen
from field_agent.tui.sync_run import SyncFinished
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.household_list import HouseholdList
from field_agent.tui.widgets.resident_form import ResidentForm

from .conftest import reopen_records, settle, unlocked


async def test_a_day_by_taps_alone(app_factory, demo, store_path) -> None:
    app = app_factory()
    messages: list[object] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await unlocked(pilot)
        # Changing screens: the navigation bar.
        await pilot.click("#nav-sampling")
        await settle(pilot)
        assert isinstance(app.screen, SamplingScreen)
        await pilot.click("#nav-households")
        await settle(pilot)
        # Opening a household: a tap on the highlighted row opens it (a tap on another row highlights that one).
        app.screen.query_one("#search", Input).value = "cfl"
        await settle(pilot)
        await pilot.click(HouseholdList, offset=(3, 1))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HouseholdScreen)
        assert screen.detail is not None
        # Editing a resident: a tap highlights its row, a second tap opens the form.
        chosen = screen.detail.residents[1]
        await pilot.click("#residents", offset=(3, 2))
        await settle(pilot)
        assert not isinstance(app.screen, ResidentForm)
        await pilot.click("#residents", offset=(3, 2))
        await settle(pilot)
        assert isinstance(app.screen, ResidentForm)
        assert app.screen.query_one("#name", Input).value == chosen["name"]
        await pilot.press("escape")
        await settle(pilot)
        # Saving a visit: the visit button, then the outcome "nobody home".
        visit_button = next(b for b in app.screen.query(Button) if str(b.label) == app.t("key.visit"))
        await pilot.click(visit_button)
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        await pilot.click("#outcome-nobody_home")
        await settle(pilot)
        if isinstance(app.screen, ConfirmDialog):  # the next door of the building is offered
            no = [b for b in app.screen.query(Button) if str(b.label) == app.t("visit.next_no")]
            await pilot.click(no[0])
            await settle(pilot)
        # Starting sync: the sync screen's button (this demo store is not enrolled: the result says so).
        await pilot.click("#nav-sync")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        await pilot.click("#sync-now")
        await settle(pilot)
        assert any(isinstance(m, SyncFinished) for m in messages)
        visits = await reopen_records(pilot, store_path, "visit")
    household = chosen["household"]
    assert any(v["household"] == household and v["outcome"] == "nobody_home" for v in visits)


async def test_a_tap_on_a_table_row_is_the_row_that_is_acted_on(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.click("#nav-tasks")
        await settle(pilot)
        table = app.screen.query_one("#tasks-table", DataTable)
        await pilot.click("#tasks-table", offset=(20, 3))
        await settle(pilot)
        assert table.cursor_row == 2
