"""Campaigns on the town server: the office creates one from a file, it reaches the grids' tablets by pull, their
results are checked against its form on push, and the office sees coverage and who is left out (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from field_agent.domain.campaigns.templates import template_data
from field_agent.domain.idnumber import make_id_number
from server_stub.campaigns import campaign_record_id, campaign_summaries, create_campaign, parse_for_town

from .harness import Harness, household

TODAY = date.today()


def typhoon(key: str = "typhoon-12", **changes: Any) -> dict[str, Any]:
    data = template_data("typhoon")
    data.update(key=key, name="防台风转移（第12号台风）", starts=TODAY.isoformat(), ends=None)
    data.update(changes)
    return data


def old_person(household_id: str, name: str) -> dict[str, Any]:
    number = make_id_number("350181", date(1940, 3, 1), 7, "female")
    return {"household": household_id, "name": name, "id_number": number, "residency": "resident"}


def test_the_office_creates_lists_shows_and_closes_a_campaign(run, tmp_path: Path) -> None:
    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    file = tmp_path / "typhoon.json"
    file.write_text(json.dumps(typhoon(grids=["东门一网格"]), ensure_ascii=False), encoding="utf-8")
    created = json.loads(run("campaign", "create", "--from", str(file), "--json").stdout)
    assert created == {"created": True, "key": "typhoon-12", "name": "防台风转移（第12号台风）", "grids": [grid]}
    again = run("campaign", "create", "--from", str(file), ok=False)
    assert "typhoon-12" in again.stderr and "exists" in again.stderr
    listed = json.loads(run("campaign", "list", "--json").stdout)["campaigns"]
    assert [(c["key"], c["status"], c["targets"], c["percent"]) for c in listed] == [("typhoon-12", "active", 0, 100.0)]
    plain = run("campaign", "list").stdout
    assert "防台风转移（第12号台风）" in plain and "进行中" in plain
    shown = json.loads(run("campaign", "show", "typhoon-12", "--json").stdout)
    assert shown["grids"][0]["grid"] == grid and shown["grids"][0]["left_out_people"] == []
    assert json.loads(run("campaign", "close", "typhoon-12", "--json").stdout)["grids"] == [grid]
    assert json.loads(run("campaign", "list", "--json").stdout)["campaigns"][0]["status"] == "closed"
    missing = run("campaign", "close", "nothing-here", ok=False)
    assert missing.stderr.count("\n") == 1 and "nothing-here" in missing.stderr


def test_a_bad_definition_is_refused_with_every_problem_named_and_nothing_created(run, tmp_path: Path) -> None:
    run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格")
    bad = typhoon(key="Typhoon 12", starts="2026-13-01")
    bad["form"] = [*bad["form"], {"name": "moved", "label": "重复", "type": "yesno"}]
    bad["statuses"][1]["counts"] = "finished"
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    refused = run("campaign", "create", "--from", str(file), ok=False)
    lines = refused.stderr.strip().splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == ["key", "starts", "form[6].name", "statuses[2].counts"]
    assert lines[-1] == "field-server: bad.json：活动定义有 4 处问题，未创建活动"
    as_json = json.loads(run("campaign", "create", "--from", str(file), "--json", ok=False).stdout)
    assert as_json["created"] is False and len(as_json["problems"]) == 4
    assert json.loads(run("campaign", "list", "--json").stdout) == {"campaigns": []}
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    assert "不是有效的 JSON" in run("campaign", "create", "--from", str(tmp_path / "broken.json"), ok=False).stderr


async def test_a_campaign_reaches_its_grids_tablets_and_their_results_are_checked(any_server: Harness) -> None:
    server = any_server
    east, west = server.grid("东门一网格"), server.grid("西门一网格")
    grids = create_campaign(server.db, parse_for_town(typhoon(grids=[east])))
    assert grids == [east]
    tablet = await server.tablet(east, worker="王芳")
    other = await server.tablet(west, worker="李娜")
    campaign_id = campaign_record_id("typhoon-12", east)
    assert [r["id"] for r in await tablet.pull_all() if r["kind"] == "campaign"] == [campaign_id]
    assert [r for r in await other.pull_all() if r["kind"] == "campaign"] == []

    home = tablet.edit(kind="household", values=household())
    grandma = tablet.edit(kind="resident", values=old_person(home["record"], "林秀英"))
    grandpa = tablet.edit(kind="resident", values=old_person(home["record"], "陈金水"))
    await tablet.push_ok([home, grandma, grandpa])
    summary = campaign_summaries(server.db, TODAY, "typhoon-12")[0]
    assert summary.targets == 2 and summary.grids[0].coverage.left_out == (grandma["record"], grandpa["record"])

    def result(target: str, **values: Any) -> dict[str, Any]:
        base = {"campaign": campaign_id, "target": target, "household": home["record"], "by": "王芳"}
        return tablet.edit(kind="campaign_result", values={**base, **values})

    moved = result(grandma["record"], status="moved", answers={"contacted": True, "moved": True, "shelter": "村委会"})
    wrong_answer = result(grandpa["record"], status="moved", answers={"contacted": "是", "moved": True})
    no_reason = result(grandpa["record"], status="stays_safe")
    wrong_target = result(home["record"], status="not_reached")
    elsewhere = result(grandpa["record"], status="not_reached")
    elsewhere["fields"]["campaign"]["value"] = campaign_record_id("typhoon-12", west)
    results = await tablet.push_ok([moved, wrong_answer, no_reason, wrong_target, elsewhere])
    assert [(r["status"], r["code"]) for r in results] == [("applied", None)] + [("refused", "invalid_record")] * 4
    assert "answers.contacted" in results[1]["reason"] and "是" not in results[1]["reason"]
    assert "reason" in results[2]["reason"]
    assert "target" in results[3]["reason"]
    assert "campaign" in results[4]["reason"]
    worker_campaign = tablet.edit(campaign_id, kind="campaign", values={"status": "closed"})
    assert (await tablet.push_ok([worker_campaign]))[0]["code"] == "office_only"

    summary = campaign_summaries(server.db, TODAY, "typhoon-12")[0]
    assert summary.grids[0].coverage.left_out == (grandpa["record"],)
    excused = result(grandpa["record"], status="stays_safe", reason="已在外地亲属家")
    assert (await tablet.push_ok([excused]))[0]["status"] == "applied"
    summary = campaign_summaries(server.db, TODAY, "typhoon-12")[0]
    assert summary.percent == 100.0 and summary.grids[0].coverage.left_out == ()


def test_a_sampling_round_is_listed_as_a_campaign_of_the_sampling_template(tmp_path: Path, run) -> None:
    run("seed-demo", "--grids", "1", "--households", "30")
    listed = json.loads(run("campaign", "list", "--json").stdout)["campaigns"]
    templates = sorted(c["template"] for c in listed)
    assert templates == ["elderly_visit", "sampling", "supplies", "typhoon", "vaccination"]
    (sampling,) = [c for c in listed if c["template"] == "sampling"]
    shown = json.loads(run("campaign", "show", sampling["key"], "--json").stdout)
    grid = shown["grids"][0]
    assert grid["left_out"] == len(grid["left_out_people"]) == sampling["left_out"]
    assert grid["done"] + grid["excused"] + grid["left_out"] == grid["targets"] > 0
    ends = (TODAY + timedelta(days=7)).isoformat()
    assert all(c["ends"] == ends for c in listed if c["template"] != "sampling")


async def test_the_office_page_shows_coverage_per_campaign_and_grid_and_who_is_left_out(server: Harness) -> None:
    from server_stub.office import issue_office_token

    east = server.grid("东门一网格")
    create_campaign(server.db, parse_for_town(typhoon()))
    tablet = await server.tablet(east)
    await tablet.pull_all()
    home = tablet.edit(kind="household", values=household("东门社区5栋101"))
    reached, missing = (
        tablet.edit(kind="resident", values=old_person(home["record"], n)) for n in ("林秀英", "陈金水")
    )
    answers = {"contacted": True, "moved": True}
    values = {"campaign": campaign_record_id("typhoon-12", east), "target": reached["record"], "status": "moved"}
    done = tablet.edit(kind="campaign_result", values={**values, "answers": answers, "by": "王芳"})
    await tablet.push_ok([home, reached, missing, done])

    assert (await server.client().get("/v1/office/campaigns")).status_code == 401
    assert (await server.client().get("/office/campaigns/typhoon-12")).status_code == 401
    office = server.client(issue_office_token(server.db))
    data = (await office.get("/v1/office/campaigns")).json()
    (campaign,) = data["campaigns"]
    assert (campaign["key"], campaign["targets"], campaign["done"], campaign["left_out"]) == ("typhoon-12", 2, 1, 1)
    assert campaign["template_label"] == "防台风转移" and campaign["grids"][0]["percent"] == 50.0
    one = (await office.get("/v1/office/campaigns/typhoon-12")).json()["campaigns"][0]
    assert [p["name"] for p in one["grids"][0]["left_out_people"]] == ["陈金水"]
    assert (await office.get("/v1/office/campaigns/nothing")).status_code == 404

    overview = await office.get("/office")
    assert overview.status_code == 200 and 'data-campaign="typhoon-12"' in overview.text
    assert "防台风转移（第12号台风）" in overview.text
    page = await office.get("/office/campaigns/typhoon-12")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "陈金水" in page.text and "林秀英" not in page.text and "尚未走访" in page.text
    number = old_person(home["record"], "x")["id_number"]
    assert number not in page.text and number[-4:] not in page.text
    assert (await office.get("/office/campaigns/nothing")).status_code == 404


def test_a_teams_route_of_a_day_lists_its_open_appointments_building_by_building(run, tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from field_agent.domain.envelope import view
    from field_agent.domain.sorting import natural_key
    from server_stub.db import open_database

    run("seed-demo", "--grids", "1", "--households", "60")
    (sampling,) = [
        c for c in json.loads(run("campaign", "list", "--json").stdout)["campaigns"] if c["template"] == "sampling"
    ]
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        records = [view(e) for e in db.iter_records()]
    households = {r["id"]: r for r in records if r["kind"] == "household"}
    zone = ZoneInfo("Asia/Shanghai")
    open_ones = [
        r for r in records
        if r["kind"] == "sampling" and r["status"] in ("scheduled", "missed", "refused") and r.get("team")
    ]  # fmt: skip
    team, day = open_ones[0]["team"], datetime.fromisoformat(open_ones[0]["scheduled_at"]).astimezone(zone).date()
    expected = [
        r for r in open_ones
        if r["team"] == team and datetime.fromisoformat(r["scheduled_at"]).astimezone(zone).date() == day
    ]  # fmt: skip
    args = ("campaign", "route", sampling["key"], "--team", team, "--date", day.isoformat(), "--json")
    route = json.loads(run(*args).stdout)
    buildings = route["grids"][0]["buildings"]
    assert sum(len(b["stops"]) for b in buildings) == len(expected) > 0
    names = [b["building"] for b in buildings]
    assert names == sorted(names, key=natural_key) and len(set(names)) == len(names)
    expected_buildings = {households[r["household"]].get("building") or "" for r in expected}
    assert set(names) == expected_buildings
    plain = run(*args[:-1]).stdout
    assert plain.splitlines()[0].startswith(f"{team} {day.isoformat()} 预约上门共 {len(expected)} 户次")
    assert "--date" in run("campaign", "route", sampling["key"], "--team", team, "--date", "12/06", ok=False).stderr


async def test_results_of_a_closed_campaign_are_erased_by_the_towns_rule_everywhere(server: Harness) -> None:
    from field_agent.domain.hlc import wall_ms
    from server_stub.campaigns import close_campaign
    from server_stub.retention import DAY_MS, purge

    east = server.grid("东门一网格")
    create_campaign(server.db, parse_for_town(typhoon()))
    tablet = await server.tablet(east)
    await tablet.pull_all()
    home = tablet.edit(kind="household", values=household())
    grandma = tablet.edit(kind="resident", values=old_person(home["record"], "林秀英"))
    answers = {"contacted": True, "moved": True, "needs": "需胰岛素冷藏"}
    values = {"campaign": campaign_record_id("typhoon-12", east), "target": grandma["record"], "status": "moved"}
    result = tablet.edit(kind="campaign_result", values={**values, "answers": answers, "by": "王芳"})
    await tablet.push_ok([home, grandma, result])

    assert purge(server.db, now_ms=wall_ms() + 40 * DAY_MS)["erased"]["campaign_result"] == 0  # still open
    close_campaign(server.db, "typhoon-12")
    report = purge(server.db, now_ms=wall_ms() + 40 * DAY_MS)
    assert report["erased"]["campaign_result"] == 1
    assert server.db.get_record(result["record"]) is None
    page = (await tablet.client.get("/v1/pull", params={"cursor": tablet.cursor, "limit": 500})).json()
    (marker,) = page["purged"]  # every tablet of the grid erases its copy at its next pull
    assert (marker["id"], marker["kind"], marker["parent"]) == (result["record"], "campaign_result", values["campaign"])
    assert "胰岛素" not in str(page)


def test_an_excel_campaign_sheet_is_created_or_refused_cell_by_cell(run, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from field_agent.ledgers.campaign_sheet_template import write_campaign_template

    run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格")
    good = tmp_path / "typhoon.xlsx"
    write_campaign_template(good, "typhoon", key="typhoon-xl", name="防台风转移", starts=TODAY, grids=("东门一网格",))
    created = json.loads(run("campaign", "create", "--from", str(good), "--json").stdout)
    assert created["created"] is True and created["key"] == "typhoon-xl"

    bad = tmp_path / "bad.xlsx"
    write_campaign_template(bad, "typhoon", key="typhoon-bad", name="防台风转移", starts=TODAY)
    book = load_workbook(bad)
    form = book["表单"]
    header = [cell.value for cell in form[1]]
    form.cell(row=2, column=header.index("类型") + 1, value="复选框")
    book.save(bad)
    refused = run("campaign", "create", "--from", str(bad), ok=False)
    column = "ABCDEFGHIJ"[header.index("类型")]
    assert f"bad.xlsx: 表单!{column}2: " in refused.stderr and "复选框" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].endswith("未创建活动")
    listed = json.loads(run("campaign", "list", "--json").stdout)["campaigns"]
    assert [c["key"] for c in listed] == ["typhoon-xl"]


async def test_the_office_downloads_and_exports_a_campaigns_ledger_masked(server: Harness, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from server_stub.office import export_ledger, issue_office_token

    east = server.grid("东门一网格")
    create_campaign(server.db, parse_for_town(typhoon()))
    tablet = await server.tablet(east)
    await tablet.pull_all()
    home = tablet.edit(kind="household", values=household("东门社区5栋101"))
    person = old_person(home["record"], "林秀英")
    grandma = tablet.edit(kind="resident", values=person)
    await tablet.push_ok([home, grandma])

    office = server.client(issue_office_token(server.db))
    page = await office.get("/office/campaigns/typhoon-12")
    assert 'href="/office/ledgers/campaign:typhoon-12.xlsx"' in page.text
    download = await office.get("/office/ledgers/campaign:typhoon-12.xlsx")
    assert download.status_code == 200
    (tmp_path / "web.xlsx").write_bytes(download.content)
    cells = [
        str(c) for row in load_workbook(tmp_path / "web.xlsx").active.iter_rows(values_only=True) for c in row if c
    ]
    assert "林秀英" in cells and "未走访" in cells
    assert person["id_number"] not in cells and person["id_number"][6:14] not in " ".join(cells)
    _, path = export_ledger(server.db, "campaign:typhoon-12", tmp_path / "typhoon.csv", audit_dir=tmp_path)
    assert path.exists() and "林秀英" in path.read_text(encoding="utf-8-sig")
    assert (await office.get("/office/ledgers/campaign:nothing.xlsx")).status_code == 404
