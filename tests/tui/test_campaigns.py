"""Campaigns in the app: Today lists the active ones with their progress, a campaign opens on its "nobody left out"
list, and a result recorded offline is saved, moves the progress and takes the person off the list; an answer the
campaign's form refuses is shown beside its field in Chinese and nothing is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, OptionList, Select, Static

from field_agent.domain.campaigns.definition import parse_campaign
from field_agent.domain.campaigns.results import coverage, find_targets
from field_agent.domain.envelope import view
from field_agent.store import Store
from field_agent.tui.queries.campaigns import campaign_lines, campaigns
from field_agent.tui.screens.campaign import CampaignScreen
from field_agent.tui.widgets.campaign_form import CampaignResultForm

from .conftest import NOW, PASSPHRASE, reopen_records, settle, unlocked

TODAY = NOW.date()


def expected_progress(demo: dict[str, dict[str, dict[str, Any]]]) -> dict[str, tuple[str, int, int, list[str]]]:
    """Per campaign record id, from every record in full: (name, done or excused, targets, left-out ids)."""
    residents = list(demo["resident"].values())
    households = demo["household"]
    found = {}
    for record_id, record in demo["campaign"].items():
        campaign = parse_campaign(record["definition"])
        targets = find_targets(campaign, residents, households, TODAY)
        results = [r for r in demo["campaign_result"].values() if r["campaign"] == record_id]
        cover = coverage(campaign, targets, results)
        found[record_id] = (campaign.name, len(cover.done) + len(cover.excused), len(targets), list(cover.left_out))
    return found


def campaign_index(app: Any, record_id: str) -> int:
    options = app.screen.query_one("#campaign-list", OptionList)
    return next(i for i in range(options.option_count) if options.get_option_at_index(i).id == record_id)


def vaccination(demo: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return next(r for r in demo["campaign"].values() if r["template"] == "vaccination")


async def open_campaign(pilot: Any, record_id: str) -> CampaignScreen:
    """From Today: highlight the campaign's line and press c."""
    app = pilot.app
    app.screen.query_one("#campaign-list", OptionList).highlighted = campaign_index(app, record_id)
    await pilot.press("c")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CampaignScreen)
    return screen


async def test_today_lists_every_active_campaign_with_its_progress(app_factory, demo) -> None:
    expected = expected_progress(demo)
    assert len(expected) == 4
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        options = app.screen.query_one("#campaign-list", OptionList)
        assert options.option_count == 4
        for record_id, (name, covered, targets, left_out) in expected.items():
            text = str(options.get_option_at_index(campaign_index(app, record_id)).prompt)
            assert text == f"{name} {covered}/{targets} 缺{len(left_out)}"
            assert 0 < len(left_out) < targets
        # the sampling round keeps its own card
        assert "已采" in str(app.screen.query_one("#card-sampling", Static).render())


async def test_a_campaign_opens_on_its_left_out_list_with_masked_id_numbers(app_factory, demo) -> None:
    record = vaccination(demo)
    _name, covered, targets, left_out = expected_progress(demo)[record["id"]]
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen = await open_campaign(pilot, record["id"])
        table = screen.query_one("#campaign-table", DataTable)
        assert sorted(str(key.value) for key in table.rows) == sorted(left_out)
        first = demo["resident"][str(table.coordinate_to_cell_key((0, 0)).row_key.value)]
        shown_number = str(table.get_row_at(0)[1])
        assert shown_number != first["id_number"] and shown_number[:6] == first["id_number"][:6]
        assert "*" in shown_number and shown_number[-2:] == first["id_number"][-2:]
        progress = str(screen.query_one("#coverage-text", Static).render())
        assert f"共 {targets}" in progress and f"未覆盖 {targets - covered}" in progress
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "TodayScreen"


async def test_a_result_recorded_offline_is_saved_and_takes_the_person_off_the_list(
    app_factory, demo, store_path: Path
) -> None:
    record = vaccination(demo)
    name, covered, targets, left_out = expected_progress(demo)[record["id"]]
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen = await open_campaign(pilot, record["id"])
        table = screen.query_one("#campaign-table", DataTable)
        target = str(table.coordinate_to_cell_key((0, 0)).row_key.value)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CampaignResultForm)
        assert form.query_one("#status", Select).value == "vaccinated"  # the first status that counts as done
        form.query_one("#answer-doses", Input).value = "3"
        form.query_one("#answer-vaccine", Select).value = "灭活疫苗"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert target not in [str(key.value) for key in table.rows]
        assert len(table.rows) == len(left_out) - 1
        assert f"未覆盖 {len(left_out) - 1}" in str(screen.query_one("#coverage-text", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        line = app.screen.query_one("#campaign-list", OptionList).get_option_at_index(campaign_index(app, record["id"]))
        assert str(line.prompt) == f"{name} {covered + 1}/{targets} 缺{len(left_out) - 1}"
        saved = [r for r in await reopen_records(pilot, store_path, "campaign_result") if r["target"] == target]
    [result] = [r for r in saved if r["campaign"] == record["id"] and r["status"] == "vaccinated"]
    assert result["answers"] == {"doses": 3, "vaccine": "灭活疫苗"}
    assert result["by"] and result["at"].startswith(TODAY.isoformat())


async def test_an_answer_the_form_refuses_is_shown_beside_its_field_in_chinese(
    app_factory, demo, store_path: Path
) -> None:
    record = vaccination(demo)
    before = len([r for r in demo["campaign_result"].values() if r["campaign"] == record["id"]])
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await open_campaign(pilot, record["id"])
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CampaignResultForm)
        form.query_one("#answer-doses", Input).value = "9"  # the form allows 0 to 5
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert str(form.query_one("#error-answer-doses", Static).render()) == "必须在 0 到 5 之间"
        # an excused status needs a reason (the office's definition says so)
        form.query_one("#answer-doses", Input).value = "0"
        form.query_one("#status", Select).value = "contraindicated"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert str(form.query_one("#error-reason", Static).render()) == "此状态须填写原因"
        assert "已接种剂次" not in str(form.query_one("#form-errors", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        results = await reopen_records(pilot, store_path, "campaign_result")
    assert len([r for r in results if r["campaign"] == record["id"]]) == before


def test_campaign_progress_from_the_index_follows_saves_of_tags_and_results(store_path: Path) -> None:
    """Today's campaign numbers (projection only) equal the domain's over every record in full, after a resident
    gains the tag a campaign targets, a household gains one, and a result is recorded."""
    with Store.open(store_path, PASSPHRASE) as store:
        reader = store.reader
        residents = [view(e) for e in store.records("resident")]
        young = next(r for r in residents if r.get("residency") == "resident" and r["id_number"][6:10] > "1990")
        store.put("resident", {}, record_id=young["id"], set_changes={"tags": {"独居老人": True}})
        household = next(view(e) for e in store.records("household") if not view(e).get("tags"))
        store.put("household", {}, record_id=household["id"], set_changes={"tags": {"独居": True}})
        typhoon = next(item for item in campaigns(reader, TODAY) if item.campaign.template == "typhoon")
        store.put(
            "campaign_result",
            {
                "campaign": typhoon.record_id,
                "target": young["id"],
                "household": young["household"],
                "status": "moved",
                "answers": {"contacted": True, "moved": True},
                "at": NOW.isoformat(),
                "by": "测试",
            },
        )
        lines = {line.record_id: line for line in campaign_lines(reader, TODAY)}
        views = [view(e) for e in store.records()]
    residents = [v for v in views if v["kind"] == "resident" and not v.get("_deleted")]
    households = {v["id"]: v for v in views if v["kind"] == "household"}
    for record in (v for v in views if v["kind"] == "campaign"):
        campaign = parse_campaign(record["definition"])
        targets = find_targets(campaign, residents, households, TODAY)
        cover = coverage(campaign, targets, [v for v in views if v.get("campaign") == record["id"]])
        line = lines[record["id"]]
        assert (line.targets, line.done, line.excused) == (len(targets), len(cover.done), len(cover.excused))
    assert young["id"] in find_targets(typhoon.campaign, residents, households, TODAY)
