"""80x24 first: every screen shows how to reach the others and how to leave; the columns that decide the work stay."""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable

from field_agent.tui.screens.visit import VisitScreen
from field_agent.tui.widgets.nav import NAV_ITEMS

from .conftest import household_by_head, settle, unlocked

SMALL = (80, 24)


def visible_columns(table: DataTable) -> list[str]:
    """The keys of the columns drawn whole inside the table's width (no sideways scrolling)."""
    shown, right = [], 0
    for column in table.ordered_columns:
        right += column.get_render_width(table)
        if right <= table.scrollable_content_region.width:
            shown.append(str(column.key.value))
    return shown


def key_labels(app) -> list:
    from field_agent.tui.widgets.keybar import KeyBar, KeyLabel  # here: the other tests run on the old app too

    return list(app.screen.query_one(KeyBar).query(KeyLabel))


def fully_shown(app, widget) -> bool:
    region = widget.region
    return region.width > 0 and region.right <= app.size.width and region.bottom <= app.size.height


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
async def test_every_main_screen_shows_its_f_key_at_80_columns(app_factory, lang) -> None:
    app = app_factory(lang=lang)
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        for screen_name in ("today", "tasks", "sampling"):
            await app.goto(screen_name)
            await settle(pilot)
            for number, name in enumerate(NAV_ITEMS, start=1):
                button = app.screen.query_one(f"#nav-{name}", Button)
                label = str(button.label)
                assert label.startswith(f"F{number}") and app.t(f"nav.{name}") in label
                assert fully_shown(app, button), (screen_name, label)


async def test_task_board_keeps_due_date_and_status_at_80_columns(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        await pilot.press("f5")
        await settle(pilot)
        table = app.screen.query_one("#tasks-table", DataTable)
        shown = visible_columns(table)
        for key in ("title", "status", "due", "assignee"):
            assert key in shown, shown
        done = next(t for t in demo["task"].values() if t["status"] == "done")
        row = table.get_row(done["id"])
        assert "已完成" in [str(cell) for cell in row]


async def test_sampling_list_keeps_time_and_team_at_80_columns(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#sampling-table", DataTable)
        assert visible_columns(table) == [str(c.key.value) for c in table.ordered_columns]
        scheduled = next(s for s in demo["sampling"].values() if s.get("team") and s.get("scheduled_at"))
        row = [str(cell) for cell in table.get_row(scheduled["resident"])]
        assert any(scheduled["team"] in cell and scheduled["scheduled_at"][11:16] in cell for cell in row), row


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
async def test_visit_key_bar_shows_back_and_save_at_80_columns(app_factory, demo, lang) -> None:
    app = app_factory(lang=lang)
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        await app.push_screen(VisitScreen(household_by_head(demo, "陈峰林")["id"]))
        await settle(pilot)
        labels = key_labels(app)
        shown = {label.binding.action: label for label in labels if fully_shown(app, label)}
        assert "save" in shown and "app.pop_screen" in shown, [str(label.content) for label in labels]
        assert labels[0].binding.key == "escape"  # how to leave comes first
        assert app.t("key.save") in str(shown["save"].content)


async def test_key_bar_speaks_the_app_language_including_textual_keys(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        text = " ".join(str(label.content) for label in key_labels(app))
        assert "^p 命令" in text and "palette" not in text
        await pilot.press("f2")
        await settle(pilot)
        app.screen.query_one("#building").focus()
        await pilot.press("enter")  # opens the building menu: Textual's own "Dismiss menu" key
        await settle(pilot)
        text = " ".join(str(label.content) for label in key_labels(app))
        assert "关闭菜单" in text and "Dismiss" not in text


async def test_tapping_a_key_runs_it(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await unlocked(pilot)
        label = next(label for label in key_labels(app) if label.binding.key == "p")
        await pilot.click(label)
        await settle(pilot)
        assert type(app.screen).__name__ == "SamplingScreen"
