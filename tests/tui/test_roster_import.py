"""Importing a roster from the Ledgers screen (F7, i): the grid leader picks a file, sees every row's problems,
confirms, and the residents are in the store and on the Households screen; a worker is told why not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from textual.widgets import Button, DataTable, Input, Static

from field_agent.domain.idnumber import make_id_number
from field_agent.store import Store
from field_agent.tui.screens.households import HouseholdsScreen
from field_agent.tui.screens.ledgers import LedgersScreen
from field_agent.tui.screens.roster_import import FOLDER_SETTING, ImportRosterScreen
from field_agent.tui.widgets.file_picker import FileTree
from field_agent.tui.widgets.household_list import HouseholdList

from .conftest import PASSPHRASE, reopen_records, settle, spy_notes, unlocked

HEADER = ["姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "户主"]
NEW_PEOPLE = ["欧阳青松", "欧阳小满", "司马远"]


def id_number(year: int, sequence: int, sex: str = "male") -> str:
    return make_id_number("350181", dt.date(year, 3, 4), sequence, sex)


def good_rows() -> list[list[str]]:
    return [
        ["欧阳青松", id_number(1961, 11), "13800001111", "9", "1", "101", "欧阳青松"],
        ["欧阳小满", id_number(1990, 12, "female"), "", "9", "1", "101", "欧阳青松"],
        ["司马远", id_number(1975, 13), "13800002222", "9", "2", "202", "司马远"],
    ]


def bad_rows() -> list[list[str]]:
    """The good rows and, on spreadsheet line 5, a row whose ID number's check digit is wrong."""
    wrong = id_number(1980, 14)
    wrong = wrong[:-1] + ("1" if wrong[-1] != "1" else "2")
    return [*good_rows(), ["诸葛明", wrong, "", "9", "2", "203", ""]]


def write_roster(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home folder the file picker starts in."""
    folder = tmp_path / "home"
    (folder / "名单").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    return folder


async def open_import(pilot) -> ImportRosterScreen:
    await unlocked(pilot)
    await pilot.press("f7")
    await settle(pilot)
    assert isinstance(pilot.app.screen, LedgersScreen)
    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportRosterScreen)
    return screen


async def check_file(pilot, screen: ImportRosterScreen, path: Path) -> None:
    """Type the file's path and press Enter: the file is read and checked."""
    field = screen.query_one("#roster-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await settle(pilot)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def problem_rows(screen: ImportRosterScreen) -> list[list[str]]:
    table = screen.query_one("#import-problems", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


def resident_names(records: list[dict[str, Any]]) -> set[str]:
    return {record.get("name") for record in records}


async def test_the_leader_imports_a_roster_and_the_residents_are_on_the_households_screen(
    app_factory, store_path: Path, home: Path
) -> None:
    roster = write_roster(home / "名单" / "东门花名册.xlsx", good_rows())
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        assert screen.query_one("#roster-path", Input).value == f"{home}/"  # the picker starts at home
        await check_file(pilot, screen, roster)
        summary = text_of(screen, "#import-summary")
        assert "共 3 行，正确 3 行，有问题 0 行" in summary
        assert "新增住户 2 户，新增居民 3 人" in summary
        assert not screen.query_one("#import-problems", DataTable).display
        assert "导入 3 行" in str(screen.query_one("#import-commit", Button).label)
        assert app.screen is screen, "nothing is imported before it is confirmed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LedgersScreen)
        assert any("已导入：新增住户 2 户，新增居民 3 人" in note for note in notes), notes
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdsScreen)
        app.screen.query_one("#search", Input).value = "欧阳"
        await settle(pilot)
        heads = [str(cells[1]) for _, cells in app.screen.query_one("#households", HouseholdList).rows]
        assert heads == ["欧阳青松"]
        residents = await reopen_records(pilot, store_path, "resident")
    assert set(NEW_PEOPLE) <= resident_names(residents)
    with Store.open(store_path, PASSPHRASE) as store:
        assert store.meta_get(FOLDER_SETTING) == str(home / "名单")  # the picker starts there next time


async def test_a_bad_row_is_shown_with_its_line_and_reason_and_only_good_rows_go_in_when_chosen(
    app_factory, store_path: Path, home: Path
) -> None:
    roster = write_roster(home / "名单" / "有错.xlsx", bad_rows())
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        await check_file(pilot, screen, roster)
        assert "共 4 行，正确 3 行，有问题 1 行" in text_of(screen, "#import-summary")
        assert "有问题的 1 行不会导入" in text_of(screen, "#import-summary")
        rows = problem_rows(screen)
        assert [row[:3] for row in rows] == [["花名册", "5", "B 身份证号"]]  # the sheet, as every report names it
        assert "校验码" in rows[0][3], rows  # the reason, in the app's language
        assert text_of(screen, "#import-problem").startswith("工作表「花名册」第 5 行 B 列（身份证号）："), text_of(
            screen, "#import-problem"
        )
        assert "仅导入正确的 3 行" in str(screen.query_one("#import-commit", Button).label)
        # the store holds nothing new while the report is shown
        assert not {"欧阳青松"} & {r.get("name") for r in app.session.model.of_kind("resident").values()}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LedgersScreen)
        residents = await reopen_records(pilot, store_path, "resident")
    names = resident_names(residents)
    assert set(NEW_PEOPLE) <= names and "诸葛明" not in names


async def test_cancelling_a_checked_roster_imports_nothing(app_factory, store_path: Path, home: Path) -> None:
    roster = write_roster(home / "名单" / "有错.xlsx", bad_rows())
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        await check_file(pilot, screen, roster)
        await pilot.click("#import-repick")  # 换一个文件: back to picking, nothing imported
        await settle(pilot)
        assert screen.query_one("#roster-tree", FileTree).display
        assert screen.report is None
        await pilot.press("ctrl+s")  # no checked file: nothing to import
        await pilot.press("escape")  # back to the ledgers
        await settle(pilot)
        assert isinstance(app.screen, LedgersScreen)
        residents = await reopen_records(pilot, store_path, "resident")
    assert not set(NEW_PEOPLE) & resident_names(residents)


async def test_a_file_picked_in_the_tree_is_checked(app_factory, home: Path) -> None:
    write_roster(home / "名单" / "东门花名册.xlsx", good_rows())
    (home / "名单" / "说明.txt").write_text("不是花名册", encoding="utf-8")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        tree = screen.query_one("#roster-tree", FileTree)
        tree.focus()
        await pilot.press("down", "enter")  # open 名单
        await settle(pilot)
        shown = [str(node.label) for node in tree.root.children[0].children]
        assert shown == ["东门花名册.xlsx"]  # only rosters and folders are offered
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.report is not None
        assert "共 3 行，正确 3 行" in text_of(screen, "#import-summary")


async def test_a_worker_is_told_only_the_grid_leader_imports(app_factory, store_path: Path, home: Path) -> None:
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set("worker", "刘逸梓")
        store.meta_set("role", "worker")
    app = app_factory()
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, LedgersScreen)
        await pilot.click("#import-roster")
        await settle(pilot)
        assert isinstance(app.screen, LedgersScreen)
    assert notes and all("只有网格长可以导入花名册" in note for note in notes)


async def test_files_that_are_no_roster_are_refused_in_chinese(app_factory, store_path: Path, home: Path) -> None:
    (home / "坏的.xlsx").write_bytes(b"this is not a workbook")
    (home / "名单.xls").write_bytes(b"old")
    refusals = {
        "坏的.xlsx": "无法作为花名册导入",
        "名单.xls": "花名册必须是 .xlsx 或 .csv 文件",
        "不存在.xlsx": "找不到文件「不存在.xlsx」",
    }
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        for name, expected in refusals.items():
            await check_file(pilot, screen, home / name)
            assert expected in text_of(screen, "#import-status")
            assert screen.report is None and app.screen is screen
        residents = await reopen_records(pilot, store_path, "resident")
    assert not set(NEW_PEOPLE) & resident_names(residents)


async def test_tab_completes_a_folder_and_a_roster_name(app_factory, home: Path) -> None:
    write_roster(home / "名单" / "东门花名册.xlsx", good_rows())
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        field = screen.query_one("#roster-path", Input)
        await pilot.press("名", "tab")
        assert field.value == f"{home}/名单/"
        await pilot.press("东", "tab")
        assert field.value == f"{home}/名单/东门花名册.xlsx"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report is not None
