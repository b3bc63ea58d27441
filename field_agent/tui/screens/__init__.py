"""The app's screens, one per module; ``main_screen`` builds the one a navigation key asks for."""

from __future__ import annotations

import importlib

from textual.screen import Screen

MAIN_SCREENS: dict[str, str] = {  # in the order of their F keys and of the navigation bar
    "today": "field_agent.tui.screens.today:TodayScreen",
    "households": "field_agent.tui.screens.households:HouseholdsScreen",
    "sampling": "field_agent.tui.screens.sampling:SamplingScreen",
    "isolation": "field_agent.tui.screens.isolation:IsolationScreen",
    "tasks": "field_agent.tui.screens.tasks:TasksScreen",
    "sync": "field_agent.tui.screens.sync:SyncScreen",
    "ledgers": "field_agent.tui.screens.ledgers:LedgersScreen",
    "settings": "field_agent.tui.screens.settings:SettingsScreen",
}


def main_screen(name: str) -> Screen[None]:
    module_name, class_name = MAIN_SCREENS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
