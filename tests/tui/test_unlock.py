"""Unlock, first run, lock key and auto-lock: the key is derived in a worker and dropped on lock."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label

from field_agent.store import Store
from field_agent.tui.app import make_app
from field_agent.tui.screens.today import TodayScreen
from field_agent.tui.screens.unlock import UnlockScreen

from .conftest import PASSPHRASE, frozen_now, records_of, settle


async def fill_new_grid(pilot, passphrase: str) -> None:
    """Fill the first run's "new grid, no server" form with placeholder names and ``passphrase`` twice."""
    for selector, text in (
        ("#town", "T"),
        ("#community", "C"),
        ("#grid-name", "G"),
        ("#worker-name", "W"),
        ("#passphrase", passphrase),
        ("#confirm", passphrase),
    ):
        await type_into(pilot, selector, text)


async def type_into(pilot, selector: str, text: str) -> None:
    """Fill an input as a paste would (typing key by key is covered by the passphrase test)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.pause()


async def test_unlock_with_the_right_passphrase_opens_today(app_factory) -> None:
    messages = []
    app = app_factory(opened=False)
    async with app.run_test(message_hook=messages.append) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        await pilot.press(*("space" if char == " " else char for char in PASSPHRASE), "enter")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        assert app.session is not None and app.session.store is not None
        assert any(type(m).__name__ == "Unlocked" for m in messages)


async def test_wrong_passphrase_says_so_and_stays_locked(app_factory) -> None:
    app = app_factory(opened=False)
    async with app.run_test() as pilot:
        await type_into(pilot, "#passphrase", "not the passphrase at all")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None
        assert "密码错误" in str(app.screen.query_one("#unlock-error", Label).content)
        assert app.screen.query_one("#passphrase", Input).value == ""


async def test_a_wrong_passphrase_is_said_in_chinese_only(app_factory) -> None:
    """Not 密码错误。（wrong passphrase）: the store's English text stays out of a Chinese screen (issue 15, item 5)."""
    app = app_factory(opened=False)
    async with app.run_test() as pilot:
        for _ in range(3):
            await type_into(pilot, "#passphrase", "not the passphrase at all")
            await pilot.press("enter")
            await settle(pilot)
        shown = str(app.screen.query_one("#unlock-error", Label).content)
    assert shown == "密码错误。已连续输错 3 次，每次重试都要多等一会儿。"


async def test_lock_key_drops_the_store_and_its_key(app_factory, store_path: Path) -> None:
    app = app_factory()
    async with app.run_test() as pilot:
        await settle(pilot)
        session = app.session
        assert session is not None
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None and session.store is None
        # The store is closed for real: another program may open it now.
        Store.open(store_path, PASSPHRASE).close()


async def test_auto_lock_after_idle_time(app_factory) -> None:
    clock = [1000.0]
    app = app_factory(idle_clock=lambda: clock[0])
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.auto_lock_seconds == 5 * 60
        clock[0] += 4 * 60
        app.check_idle()
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        await pilot.press("f2")  # input resets the idle timer
        await settle(pilot)
        clock[0] += 4 * 60
        app.check_idle()
        await settle(pilot)
        assert app.session is not None
        clock[0] += 60
        app.check_idle()
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None


async def test_first_run_creates_the_store_for_a_grid(tmp_path: Path) -> None:
    path = tmp_path / "new-store"
    app = make_app(path, lang="en", now=frozen_now, environ={})
    async with app.run_test(size=(80, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, UnlockScreen) and screen.first_run
        for selector, text in (
            ("#town", "Yuping"),
            ("#community", "Dongmen"),
            ("#grid-name", "Grid 3"),
            ("#worker-name", "Lin"),
            ("#passphrase", PASSPHRASE),
            ("#confirm", PASSPHRASE),
        ):
            await type_into(pilot, selector, text)
        await pilot.click("#create")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        await app.action_lock()
        await settle(pilot)
    grids = records_of(path, "grid")
    assert [(g["name"], g["leader"], g["mode"]) for g in grids] == [("Grid 3", "Lin", "normal")]


async def test_first_run_refuses_a_weak_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "new-store"
    app = make_app(path, lang="en", now=frozen_now, environ={})
    async with app.run_test(size=(80, 30)) as pilot:
        await fill_new_grid(pilot, "123456")
        await pilot.click("#create")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "too weak" in str(app.screen.query_one("#unlock-error", Label).content)
    assert not (path.exists() and any(path.iterdir()))


async def test_first_run_says_in_chinese_what_a_guessable_passphrase_is_made_of(tmp_path: Path) -> None:
    path = tmp_path / "new-store"
    app = make_app(path, lang="zh_CN", now=frozen_now, environ={})
    async with app.run_test(size=(80, 30)) as pilot:
        await fill_new_grid(pilot, "lifeng19880715")
        await pilot.click("#create")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        shown = str(app.screen.query_one("#unlock-error", Label).content)
        assert shown.startswith("密码强度不够：由拼音姓名、日期") and "10^" in shown, shown
    assert not (path.exists() and any(path.iterdir()))


async def test_command_palette_reaches_every_screen_by_name(app_factory) -> None:
    from textual.command import CommandPalette

    from field_agent.tui.screens.sampling import SamplingScreen

    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Sampling")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SamplingScreen)


async def test_the_demo_shows_its_public_passphrase_on_the_unlock_screen(app_factory) -> None:
    app = app_factory(lang="en", opened=False, demo_passphrase=PASSPHRASE)
    async with app.run_test() as pilot:
        hint = str(app.screen.query_one("#unlock-hint", Label).content)
        assert hint == f"Demo store passphrase: {PASSPHRASE}"
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)


async def test_a_real_store_shows_no_passphrase_hint(app_factory) -> None:
    app = app_factory(opened=False)
    async with app.run_test():
        assert not app.screen.query("#unlock-hint")
