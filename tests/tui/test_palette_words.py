"""The command palette in the app's language: its prompt, its "nothing found", every key by name or pinyin."""

from __future__ import annotations

from textual.command import CommandInput, CommandList, CommandPalette

from field_agent.tui.screens.visit import VisitScreen

from .conftest import household_by_head, settle, unlocked


def prompts(app) -> list[str]:
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def open_palette(pilot) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)


async def test_palette_prompt_and_no_match_are_chinese(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await open_palette(pilot)
        assert str(app.screen.query_one(CommandInput).placeholder) == app.t("palette.placeholder")
        await pilot.press(*"qqqzzz")
        await settle(pilot)
        await pilot.pause(0.8)  # past Textual's own "No matches found" countdown
        shown = prompts(app)
        assert any(app.t("palette.no_match") in prompt for prompt in shown), shown
        assert not any("No matches" in prompt for prompt in shown)


async def test_palette_lists_every_key_of_the_screen_with_its_key(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        await app.push_screen(VisitScreen(household_by_head(demo, "陈峰林")["id"]))
        await settle(pilot)
        await open_palette(pilot)
        shown = prompts(app)
        for name, key in (("已见面", "1"), ("无人在家", "2"), ("修改居民", "e"), ("保存", "^s"), ("返回", "esc")):
            assert any(name in prompt and f"按键 {key}" in prompt for prompt in shown), (name, shown)
        for number, screen in enumerate(("今日", "住户", "采样"), start=1):
            assert any(screen in prompt and f"F{number}" in prompt for prompt in shown), screen


async def test_palette_matches_pinyin_initials(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        await open_palette(pilot)
        await pilot.press(*"sd")  # 锁定
        await settle(pilot)
        first = prompts(app)[0]
        assert "锁定" in first, prompts(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.session is None  # locked
