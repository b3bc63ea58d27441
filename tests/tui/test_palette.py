"""The command palette (ctrl+p) lists every screen and the current screen's keys, and runs what is chosen."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from field_agent.tui.app import FieldAgentApp
from field_agent.tui.screens.households import HouseholdsScreen
from field_agent.tui.screens.today import TodayScreen

from .conftest import settle, unlocked


async def test_palette_lists_screens_keys_lock_and_quit(app_factory: Callable[..., FieldAgentApp]) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        options = app.screen.query_one(CommandList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        for name in ("Today", "Homes", "Ledgers", "Settings", "Refresh", "Lock", "Quit"):
            assert any(prompt.startswith(name) for prompt in prompts), name


async def test_palette_runs_a_key_of_the_current_screen(app_factory: Callable[..., FieldAgentApp]) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked(pilot)
        assert isinstance(app.screen, TodayScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        # "Visits" is Today's key "v" (to the households screen), listed with its key as help.
        await pilot.press(*"Visits")
        await settle(pilot)
        palette = app.screen
        assert palette.query_one(Input).value == "Visits"
        options = palette.query_one(CommandList)
        assert options.option_count >= 1
        first = str(options.get_option_at_index(0).prompt)
        assert "Visits" in first and "Key v" in first
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdsScreen)


async def test_palette_goes_to_a_screen_by_name(app_factory: Callable[..., FieldAgentApp]) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Homes")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdsScreen)
