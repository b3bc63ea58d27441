"""Door-to-door visits: one-key outcome, residents present, health answers, inline resident edits, next door."""

from __future__ import annotations

from datetime import date

from textual.widgets import Input, Static

from field_agent.domain.idnumber import make_id_number
from field_agent.tui.screens.households import HouseholdsScreen
from field_agent.tui.screens.visit import VisitScreen
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.resident_form import ResidentForm

from .conftest import household_by_head, reopen_records, settle, unlocked


async def open_visit(pilot, household_id: str) -> VisitScreen:
    await pilot.app.push_screen(VisitScreen(household_id))
    await settle(pilot)
    assert isinstance(pilot.app.screen, VisitScreen)
    return pilot.app.screen


async def test_find_by_initials_then_record_a_met_visit_with_health_answers(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    residents = sorted(
        (r for r in demo["resident"].values() if r["household"] == household["id"]), key=lambda r: (r["name"], r["id"])
    )
    messages = []
    app = app_factory()
    async with app.run_test(message_hook=messages.append) as pilot:
        await unlocked(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("c", "f", "l")
        await settle(pilot)
        await pilot.press("enter", "v")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen) and app.screen.household_id == household["id"]
        await pilot.press("space", "f", "down", "space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = {id(m): m for m in messages if isinstance(m, VisitScreen.VisitSaved)}  # seen again as it bubbles
        assert len(saved) == 1
        assert isinstance(app.screen, ConfirmDialog)  # the next door of the building is offered
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, HouseholdsScreen)
        visits = await reopen_records(pilot, store_path, "visit")
    ours = [v for v in visits if v["household"] == household["id"] and v["visited_at"] == "2026-11-30T09:30:00+08:00"]
    assert len(ours) == 1
    visit = ours[0]
    assert visit["outcome"] == "met"
    assert visit["worker"] == "陈倩"
    assert set(visit["residents_seen"]) == {residents[0]["id"], residents[1]["id"]}
    assert visit["health"] == {residents[0]["id"]: {"fever": True, "cough": False, "other": ""}}
    assert visit["follow_up"] is True


async def test_one_key_outcome_saves_and_offers_the_next_household(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory()
    async with app.run_test() as pilot:
        await unlocked(pilot)
        await open_visit(pilot, household["id"])
        await pilot.press("2")  # nobody home: saved at once
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        question = str(app.screen.query_one("#confirm-question", Static).content)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        following = demo["household"][app.screen.household_id]
        assert following["building"] == household["building"] and following["id"] != household["id"]
        assert following["address"] in question
        visits = await reopen_records(pilot, store_path, "visit")
    ours = [v for v in visits if v["household"] == household["id"] and v["visited_at"].startswith("2026-11-30T09:30")]
    assert [(v["outcome"], v["residents_seen"]) for v in ours] == [("nobody_home", [])]


async def test_add_resident_inline_with_live_id_number_check(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    good = make_id_number("350181", __import__("datetime").date(1950, 3, 1), 7, "male")
    app = app_factory(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await open_visit(pilot, household["id"])
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ResidentForm)
        form.query_one("#name", Input).value = "林新"
        id_field = form.query_one("#id_number", Input)
        id_field.value = good[:-1] + ("0" if good[-1] != "0" else "1")
        await pilot.pause()
        assert "Check digit" in str(form.query_one("#id-check", Static).content)
        id_field.value = good
        await pilot.pause()
        check = str(form.query_one("#id-check", Static).content)
        assert "76 years" in check and "M" in check
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        assert any(r["name"] == "林新" for r in app.screen.residents)
        residents = await reopen_records(pilot, store_path, "resident")
    added = [r for r in residents if r["name"] == "林新"]
    assert len(added) == 1 and added[0]["id_number"] == good and added[0]["household"] == household["id"]


async def test_invalid_resident_is_not_saved_and_says_why(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await open_visit(pilot, household["id"])
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        form.query_one("#name", Input).value = "无证"
        form.query_one("#id_number", Input).value = "12345"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ResidentForm)
        assert "Not saved" in str(form.query_one("#form-errors", Static).content)
        await pilot.press("escape")
        await settle(pilot)
        residents = await reopen_records(pilot, store_path, "resident")
    assert not [r for r in residents if r["name"] == "无证"]


async def test_a_refused_phone_is_explained_in_chinese_beside_the_form(app_factory, demo) -> None:
    """Not ``mobile number must have 11 digits``: the domain's message key is said from the catalog (issue 15,
    item 5)."""
    household = household_by_head(demo, "陈峰林")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await open_visit(pilot, household["id"])
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        form.query_one("#name", Input).value = "林新"
        form.query_one("#id_number", Input).value = make_id_number("350181", date(1950, 3, 1), 7, "male")
        form.query_one("#phone", Input).value = "138123456"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ResidentForm)
        shown = str(form.query_one("#form-errors", Static).content)
    assert shown == "未保存：电话：手机号应为 11 位数字，现在是 9 位"


async def test_correcting_a_resident_keeps_the_id_number_hidden_until_asked(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen = await open_visit(pilot, household["id"])
        resident = next(r for r in screen.residents if r["id"] == screen.current_resident_id())
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ResidentForm)
        id_field = form.query_one("#id_number", Input)
        assert id_field.password and id_field.value == resident["id_number"]
        await pilot.press("ctrl+r")  # asks why first, and records it (tests/tui/test_reveal.py)
        await settle(pilot)
        app.screen.query_one("#field-reason", Input).value = "number looks wrong"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form and not id_field.password
        form.query_one("#phone", Input).value = "13912345678"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        residents = await reopen_records(pilot, store_path, "resident")
    corrected = next(r for r in residents if r["id"] == resident["id"])
    assert corrected["phone"] == "13912345678" and corrected["id_number"] == resident["id_number"]


async def test_the_cancel_button_closes_the_resident_form_without_saving(app_factory, demo, store_path) -> None:
    household = household_by_head(demo, "陈峰林")
    app = app_factory(lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlocked(pilot)
        await open_visit(pilot, household["id"])
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ResidentForm)
        app.screen.query_one("#name", Input).value = "取消"
        await pilot.click("#cancel")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        residents = await reopen_records(pilot, store_path, "resident")
    assert not [r for r in residents if r["name"] == "取消"]
