"""Focus goes where the work is: a household opens on its residents, Down leaves the search box for the results."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from field_agent.tui.screens.household import HouseholdScreen
from field_agent.tui.widgets.household_list import HouseholdList
from field_agent.tui.widgets.resident_form import ResidentForm

from .conftest import settle, unlocked


async def test_down_in_the_search_box_moves_into_the_results(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"cfl")
        await settle(pilot)
        assert isinstance(app.focused, Input)
        await pilot.press("down")
        await settle(pilot)
        found = app.screen.query_one("#households", HouseholdList)
        assert app.focused is found
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdScreen)


async def test_an_opened_household_focuses_its_residents_and_e_edits_the_selected_one(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"cfl")
        await settle(pilot)
        await pilot.press("enter", "enter")  # Enter: to the results; Enter again: open
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HouseholdScreen)
        table = screen.query_one("#residents", DataTable)
        assert app.focused is table
        await pilot.press("down", "down")
        await settle(pilot)
        assert table.cursor_row == 2
        assert screen.detail is not None
        chosen = screen.detail.residents[2]
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ResidentForm)
        assert app.screen.query_one("#name", Input).value == chosen["name"]
