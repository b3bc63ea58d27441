"""Snapshots of the main screens at 80x24 and 160x48, in Chinese and English (demo data, frozen clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from field_agent.store import Store
from field_agent.tui.app import make_app

from .conftest import PASSPHRASE, SIZES, frozen_now, household_by_head, settle

SCREENS = ("today", "households", "visit", "sampling", "tasks", "sync")


def navigate(screen: str, demo: dict[str, Any]) -> Callable[[Any], Any]:
    async def run_before(pilot) -> None:
        await settle(pilot)
        if screen == "visit":
            from field_agent.tui.screens.visit import VisitScreen

            await pilot.app.push_screen(VisitScreen(household_by_head(demo, "陈峰林")["id"]))
        elif screen != "today":
            await pilot.app.goto(screen)
        await settle(pilot)
        if screen == "households":
            await pilot.press("c", "f")
            await settle(pilot)
        if screen == "visit":
            await pilot.press("space", "f")
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", SCREENS)
def test_main_screen(snap_compare, store_path, demo, screen: str, size: str, lang: str) -> None:
    store = Store.open(store_path, PASSPHRASE)
    app = make_app(store_path, lang=lang, store=store, now=frozen_now, environ={})
    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=navigate(screen, demo))
    finally:
        if app.session is not None:
            app.session.close()
        store.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_first_run_screen(snap_compare, tmp_path, size: str, lang: str) -> None:
    app = make_app(tmp_path / "new-store", lang=lang, now=frozen_now, environ={})
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)
