"""Households: instant search (address, name, pinyin initials, phone tail), filters, detail with masked IDs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.widgets import DataTable, Input, Static

from field_agent.domain.idnumber import mask_id_number
from field_agent.tui.screens.household import HouseholdScreen
from field_agent.tui.screens.households import HouseholdsScreen
from field_agent.tui.widgets.household_list import MAX_WIDTH, HouseholdList, widest

from .conftest import household_by_head, settle, unlocked


async def open_households(pilot) -> HouseholdList:
    """Unlock, open the households screen (F2), wait for its first results; the screen's list."""
    await unlocked(pilot)
    await pilot.press("f2")
    await settle(pilot)
    return pilot.app.screen.query_one("#households", HouseholdList)


def listed_heads(app) -> list[str]:
    found = app.screen.query_one("#households", HouseholdList)
    return [str(cells[1]) for _, cells in found.rows]


async def search(pilot, text: str) -> None:
    field = pilot.app.screen.query_one("#search", Input)
    field.value = ""
    await pilot.press(*text)
    await settle(pilot)


async def test_search_by_pinyin_initials_name_phone_tail_and_address(app_factory, demo) -> None:
    head = household_by_head(demo, "陈峰林")
    app = app_factory()
    async with app.run_test() as pilot:
        await open_households(pilot)
        assert isinstance(app.screen, HouseholdsScreen)
        assert len(listed_heads(app)) == len(demo["household"])
        await search(pilot, "cfl")
        assert listed_heads(app)[0] == "陈峰林"
        await search(pilot, head["phone"][-4:])
        assert "陈峰林" in listed_heads(app)
        app.screen.query_one("#search", Input).value = "陈峰林"
        await settle(pilot)
        assert "陈峰林" in listed_heads(app)
        await search(pilot, "qqqqzzzz")
        assert listed_heads(app) == []
        assert "0" in str(app.screen.query_one("#households-count", Static).content)


async def test_filters_narrow_the_list(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_households(pilot)
        everyone = len(listed_heads(app))
        await pilot.click("#filter-isolation")
        await settle(pilot)
        isolating = {r["household"] for r in demo["resident"].values() if r.get("isolation_status") == "home"}
        assert len(listed_heads(app)) == len(isolating) >= 1
        await pilot.click("#filter-unchecked")
        await settle(pilot)
        visited = {
            v["household"]
            for v in demo["visit"].values()
            if v["visited_at"] >= "2026-11-29" and v["outcome"] in ("met", "vacant")
        }
        assert len(listed_heads(app)) == everyone - len(visited)
        await pilot.click("#filter-all")
        await settle(pilot)
        assert len(listed_heads(app)) == everyone


async def test_detail_masks_id_numbers_until_revealed(app_factory, demo) -> None:
    household = household_by_head(demo, "陈峰林")
    resident = next(r for r in demo["resident"].values() if r["household"] == household["id"])
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await app.push_screen(HouseholdScreen(household["id"]))
        await settle(pilot)
        table = app.screen.query_one("#residents", DataTable)
        shown = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert mask_id_number(resident["id_number"]) in shown
        assert resident["id_number"] not in shown
        await pilot.press("x")  # asks why first (tests/tui/test_reveal.py): nothing is shown yet
        await settle(pilot)
        shown = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert resident["id_number"] not in shown


async def test_names_are_shown_as_typed_never_as_markup(app_factory, demo) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        app.session.save("household", {"head": "[b]陈峰林[/b]"}, record_id=household["id"])
        await pilot.press("f2")
        await settle(pilot)
        await search(pilot, "cfl")
        found = app.screen.query_one("#households", HouseholdList)
        drawn = [found.render_line(y).text for y in range(found.size.height)]
        assert any("[b]陈峰林[/b]" in line for line in drawn), drawn[:3]


async def test_typing_fast_shows_the_last_keystrokes_results(app_factory) -> None:
    messages: list = []
    app = app_factory()
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await open_households(pilot)
        screen = app.screen
        field = screen.query_one("#search", Input)
        for text in ("c", "cf", "cfl"):  # faster than any search can answer
            field.value = text
        await settle(pilot)
        assert listed_heads(app)[0] == "陈峰林"
        searched = [m for m in messages if isinstance(m, HouseholdsScreen.Searched)]
        assert searched[-1].serial == screen.serial
        assert screen.shown_rows == searched[-1].rows


async def test_keys_move_the_cursor_past_the_last_visible_row_and_enter_opens_it(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        found = await open_households(pilot)
        visible = found.scrollable_content_region.height - 1  # below the header
        assert found.row_count > visible
        found.focus()
        await pilot.press(*["down"] * visible)
        await pilot.pause()
        assert found.cursor == visible
        assert found.scroll_offset.y >= 1  # scrolled, so the highlighted row is on screen
        drawn = [found.render_line(y).text for y in range(found.size.height)]
        assert any(str(found.rows[visible][1][1]) in line for line in drawn)
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdScreen)
        assert app.screen.household_id == found.rows[visible - 1][0]


async def test_a_tap_highlights_a_row_and_a_second_tap_opens_that_household(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        found = await open_households(pilot)
        await pilot.click("#households", offset=(3, 3))  # the header, then rows 0, 1, 2
        await pilot.pause()
        assert found.cursor == 2
        assert isinstance(app.screen, HouseholdsScreen)
        await pilot.click("#households", offset=(3, 3))
        await settle(pilot)
        assert isinstance(app.screen, HouseholdScreen)
        assert app.screen.household_id == found.rows[2][0]


async def test_a_new_search_puts_the_cursor_back_on_the_first_match(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        found = await open_households(pilot)
        found.cursor = 5
        await search(pilot, "cfl")
        assert found.cursor == 0 and found.scroll_offset.y == 0
        assert app.screen.selected_household() == found.rows[0][0]
        assert str(found.rows[0][1][1]) == "陈峰林"


def drawn_lines(found: HouseholdList) -> list[str]:
    """The list as it is on screen: the header, then the visible rows."""
    return [found.render_line(y).text for y in range(min(found.size.height, found.row_count + 1))]


def column_starts(line: str, values: list[str]) -> list[int | None]:
    """The cell offset at which each value starts in a drawn line (CJK characters take two cells); None if empty."""
    starts: list[int | None] = []
    position = 0
    for value in values:
        if not value:
            starts.append(None)
            continue
        position = line.index(value, position)
        starts.append(cell_len(line[:position]))
        position += len(value)
    return starts


@pytest.mark.parametrize("query", ["zs", "cfl", "陈峰", "3号楼2", "13"])
async def test_columns_stay_put_while_a_search_is_typed(app_factory, query: str) -> None:
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        found = await open_households(pilot)
        labels = found.labels
        header = drawn_lines(found)[0].rstrip()  # the vertical scrollbar comes and goes with the number of rows
        starts = column_starts(header, labels)
        results = [listed_heads(app)]
        for key in query:
            await pilot.press(key)
            await settle(pilot)
            lines = drawn_lines(found)
            assert lines[0].rstrip() == header, f"after {key!r}"
            for line, (_, cells) in zip(lines[1:], found.rows, strict=False):
                row_starts = column_starts(line, [cell.plain for cell in cells])
                assert all(at in (None, start) for at, start in zip(row_starts, starts, strict=True)), line
            results.append(listed_heads(app))
        assert len({tuple(heads) for heads in results}) >= 3  # the results changed at least twice while typing


async def test_header_and_rows_scroll_sideways_together_at_80_columns(app_factory) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        found = await open_households(pilot)
        assert found.virtual_size.width > found.scrollable_content_region.width  # wider than the screen
        found.scroll_to(x=found.max_scroll_x, animate=False, immediate=True)
        await pilot.pause()
        header, *rows = drawn_lines(found)
        last_label = found.labels[-1]
        assert last_label in header  # the last column, scrolled into view
        for line, (_, cells) in zip(rows, found.rows, strict=False):
            (start,) = column_starts(line, [cells[-1].plain])
            assert start == column_starts(header, [last_label])[0], line  # still under its header


async def test_columns_follow_the_data_when_a_household_changes_and_cut_an_odd_long_value(app_factory, demo) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        found = await open_households(pilot)
        before = found.column_widths[0]
        longer = "长" * (before // 2 + 2)  # a little wider than every address of the grid
        app.session.save("household", {"address": longer}, record_id=household["id"])
        app.screen.refresh_list()  # as after an edit or a sync
        await settle(pilot)
        assert found.column_widths[0] == cell_len(longer) > before
        assert column_starts(drawn_lines(found)[0], found.labels)[1] == cell_len(longer) + 3
        odd = "很长的地址" * 10
        app.session.save("household", {"address": odd}, record_id=household["id"])
        await search(pilot, "cfl")
        assert found.column_widths[0] == MAX_WIDTH
        header, first = drawn_lines(found)[:2]
        assert odd not in first and odd[: MAX_WIDTH // 2 - 1] + "…" in first  # cut with an ellipsis
        assert column_starts(first, [found.rows[0][1][1].plain]) == column_starts(header, [found.labels[1]])


@given(st.lists(st.text(max_size=12), max_size=8))
def test_widest_measures_as_cell_len_does(values: list[str]) -> None:
    assert widest(values) == max(map(cell_len, values), default=0)


async def test_a_residents_tags_are_shown_beside_their_groups_as_typed(app_factory, demo) -> None:
    """Tags a roster brought (独居老人, 低保户: the town's own words) are listed with the special groups."""
    household = household_by_head(demo, "陈峰林")
    resident = next(r for r in demo["resident"].values() if r["household"] == household["id"])
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        app.session.save(
            "resident", {}, record_id=resident["id"], set_changes={"tags": {"独居老人": True, "[b]低保户": True}}
        )
        await app.push_screen(HouseholdScreen(household["id"]))
        await settle(pilot)
        table = app.screen.query_one("#residents", DataTable)
        row = table.get_row(resident["id"])
        assert str(row[3]).endswith("[b]低保户 独居老人")
