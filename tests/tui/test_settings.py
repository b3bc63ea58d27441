"""Settings: language switch (saved in the store), auto-lock minutes, passphrase change; ledgers export."""

from __future__ import annotations

import csv
from pathlib import Path

from textual.widgets import Input, Select, Static

from field_agent.store import Store
from field_agent.tui.screens.ledgers import LedgersScreen
from field_agent.tui.screens.settings import SettingsScreen

from .conftest import PASSPHRASE, settle, unlocked


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("f8")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SettingsScreen)
    return pilot.app.screen


async def test_switching_language_redraws_in_english_and_is_remembered(app_factory, store_path: Path) -> None:
    app = app_factory(lang=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        assert app.t.language == "zh_CN"
        screen = await open_settings(pilot)
        screen.query_one("#language", Select).value = "en"
        screen.query_one("#auto_lock_minutes", Input).value = "2"
        screen.query_one("#reveal_seconds", Input).value = "15"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.t.language == "en"
        assert app.auto_lock_seconds == 120
        assert "Language" in str(app.screen.query_one(".form Label").content)
        await app.action_lock()
        await settle(pilot)
    with Store.open(store_path, PASSPHRASE) as store:
        assert store.meta_get("language") == "en" and store.meta_get("auto_lock_minutes") == 2
        assert store.meta_get("reveal_seconds") == 15


async def test_bad_settings_are_refused_with_a_reason(app_factory) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_settings(pilot)
        screen.query_one("#sync_window", Input).value = "late at night"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "22:00-06:00" in str(screen.query_one("#settings-status", Static).content)
        screen.query_one("#reveal_seconds", Input).value = "3600"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "5 to 300 seconds" in str(screen.query_one("#settings-status", Static).content)


async def test_passphrase_change_rewraps_the_key(app_factory, store_path: Path) -> None:
    new = "a different long passphrase 2026"
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_settings(pilot)
        screen.query_one("#old", Input).value = "wrong old passphrase"
        screen.query_one("#new", Input).value = new
        screen.query_one("#confirm", Input).value = new
        await pilot.click("#change-passphrase")
        await settle(pilot)
        assert "Wrong passphrase" in str(screen.query_one("#passphrase-status", Static).content)
        screen.query_one("#old", Input).value = PASSPHRASE
        await pilot.click("#change-passphrase")
        await settle(pilot)
        assert "changed" in str(screen.query_one("#passphrase-status", Static).content)
        await app.action_lock()
        await settle(pilot)
    Store.open(store_path, new).close()


async def test_ledger_preview_and_csv_export(app_factory, tmp_path: Path, demo) -> None:
    out = tmp_path / "residents.csv"
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LedgersScreen)
        status = str(screen.query_one("#ledger-status", Static).content)
        total = int(status.split(" rows")[0])
        assert 0 < total <= len(demo["resident"])
        suggested = Path(screen.query_one("#export-path", Input).value)  # named as every export is
        assert suggested.parent == Path.home() and suggested.name.endswith("-常住人口台账-2026-11-30.xlsx")
        screen.query_one("#export-path", Input).value = str(out)
        await pilot.press("ctrl+e")
        await settle(pilot)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) >= total + 1  # the header, then one row per resident of the ledger
    some = next(iter(demo["resident"].values()))["id_number"]
    assert some not in out.read_text(encoding="utf-8-sig")
