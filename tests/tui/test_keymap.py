"""Bindings are Textual's own, declared once with a catalog key and an id: a keymap rebinds them, nothing rewrites
them (the app used to rebuild every node's private binding map to translate its descriptions)."""

from __future__ import annotations

import importlib

from textual.binding import Binding

from field_agent.tui.app import FieldAgentApp
from field_agent.tui.i18n import Translator
from field_agent.tui.screens import MAIN_SCREENS

from .conftest import settle, unlocked


def declared(cls: type) -> list[Binding]:
    return [b for b in cls.BINDINGS if isinstance(b, Binding)]


def test_every_binding_of_the_app_and_its_screens_has_an_id_and_a_catalog_key() -> None:
    classes: list[type] = [FieldAgentApp]
    for path in MAIN_SCREENS.values():
        module, name = path.split(":")
        classes.append(getattr(importlib.import_module(module), name))
    from field_agent.tui.screens.campaign import CampaignScreen
    from field_agent.tui.screens.household import HouseholdScreen
    from field_agent.tui.screens.visit import VisitScreen

    classes += [HouseholdScreen, VisitScreen, CampaignScreen]
    ids = []
    t = Translator("zh_CN")
    for cls in classes:
        for binding in declared(cls):
            assert binding.id, (cls.__name__, binding.key)
            assert t.has(binding.description), (cls.__name__, binding.description)
            ids.append(binding.id)
    assert len(ids) == len(set(ids))


async def test_a_keymap_rebinds_lock_and_the_key_bar_shows_the_new_key(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        app.set_keymap({"lock": "ctrl+k"})
        await settle(pilot)
        from field_agent.tui.widgets.keybar import KeyBar, KeyLabel

        text = " ".join(str(label.content) for label in app.screen.query_one(KeyBar).query(KeyLabel))
        assert "^k 锁定" in text, text
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert app.session is None
