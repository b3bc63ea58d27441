"""The town office's overview (HTML and JSON) over the real server database, its credential, and server exports."""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from field_agent.domain.envelope import is_deleted, local_edit, view
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, nobody_left_out
from field_agent.domain.hlc import HybridClock
from field_agent.domain.idnumber import mask_id_number
from field_agent.domain.phone import mask_phone
from server_stub.cli import cli as server_cli
from server_stub.db.sqlite import SqliteDatabase
from server_stub.office import TOKEN_META_KEY, export_command, issue_office_token, office_group, router

from .town import CHINA, G1, G2, TODAY, build_town, person

SYNCED_MS = 1_764_460_800_000


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "server"
    folder.mkdir()
    monkeypatch.setenv("FIELD_SERVER_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def records() -> list[dict[str, Any]]:
    envelopes = copy.deepcopy(build_town())
    household = next(e for e in envelopes if e["kind"] == "household" and e["grid"] == G1)
    household["conflicts"]["head@x"] = {"field": "head", "type": "value", "resolved": None}
    household["conflicts"]["phone@y"] = {"field": "phone", "type": "value", "resolved": "000000000000001-00000-aa"}
    return envelopes


@pytest.fixture
def db(data_dir: Path, records: list[dict[str, Any]]) -> SqliteDatabase:
    database = SqliteDatabase(data_dir / "server.db")
    for grid in (G1, G2):
        with database.transaction(grid) as tx:
            tx.put_records(grid, [e for e in records if e["grid"] == grid])
    with database.transaction() as tx:
        for number, grid in enumerate((G1, G1, G2)):
            device = {"id": f"dev-{number}", "grid": grid, "worker": f"网格员{number}", "role": "worker",
                      "name": f"tablet {number}", "node_id": f"{number:012x}", "created": SYNCED_MS - 10**6,
                      "token_hash": f"hash-{number}"}  # fmt: skip
            tx.insert_device(device)
        tx.mark_synced("dev-0", SYNCED_MS)
    yield database
    database.close()


@pytest.fixture
async def client(db: SqliteDatabase) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db = db
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://office.test") as c:
        yield c


def expected_grid(records: list[dict[str, Any]], grid: str) -> dict[str, Any]:
    """One grid's overview numbers, worked out from the records with the domain's rules."""
    live = [view(e) for e in records if e["grid"] == grid and not is_deleted(e)]
    residents = [v for v in live if v["kind"] == "resident"]
    rounds = [v for v in live if v["kind"] == "sampling_round" and v["status"] == "open"]
    current = max(rounds, key=lambda r: r["started_at"])
    started = dt.datetime.fromisoformat(current["started_at"])
    checked = {
        v["household"]
        for v in live
        if v["kind"] == "visit"
        and v["outcome"] in ("met", "vacant")
        and dt.datetime.fromisoformat(v["visited_at"]) >= started
    }
    samplings = [v for v in live if v["kind"] == "sampling"]
    isolated = {r["id"] for r in residents if r.get("isolation_status") == "home"}
    followed = {v["resident"] for v in live if v["kind"] == "followup" and v["date"] == TODAY.isoformat()}
    return {
        "households": sum(v["kind"] == "household" for v in live),
        "households_checked": len(checked),
        "eligible": sum(DEFAULT_ELIGIBILITY.is_eligible(r, TODAY) for r in residents),
        "left_out": len(nobody_left_out(residents, samplings, current["id"], TODAY)),
        "in_isolation": len(isolated),
        "followups_today": len(isolated & followed),
        "open_conflicts": sum(
            1 for e in records if e["grid"] == grid for c in e["conflicts"].values() if not c.get("resolved")
        ),
    }


async def test_overview_json_refuses_without_the_office_token(client: httpx.AsyncClient, db: SqliteDatabase) -> None:
    unset = await client.get("/v1/office/overview")
    assert unset.status_code == 401 and unset.json()["error"]["code"] == "office_token_unset"
    token = issue_office_token(db)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
        refused = await client.get("/v1/office/overview", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "office_token_invalid"
        assert "grids" not in refused.json()
    device_token = await client.get("/v1/office/overview", headers={"Authorization": "Bearer hash-0"})
    assert device_token.status_code == 401


async def test_overview_json_agrees_with_the_records(
    client: httpx.AsyncClient, db: SqliteDatabase, records: list[dict[str, Any]]
) -> None:
    token = issue_office_token(db)
    response = await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    data = response.json()
    assert data["today"] == TODAY.isoformat()
    grids = {g["grid"]: g for g in data["grids"]}
    assert set(grids) == {G1, G2}
    for grid in (G1, G2):
        expected = expected_grid(records, grid)
        assert {key: grids[grid][key] for key in expected} == expected, grid
        assert grids[grid]["sampled_or_exempt"] == expected["eligible"] - expected["left_out"]
    assert grids[G1]["round"]["name"] == "第2轮"
    devices = {d["id"]: d for d in grids[G1]["devices"]}
    assert devices["dev-0"]["last_sync"] == dt.datetime.fromtimestamp(SYNCED_MS / 1000, CHINA).isoformat()
    assert devices["dev-1"]["last_sync"] is None
    assert [d["id"] for d in grids[G2]["devices"]] == ["dev-2"]
    assert data["totals"]["left_out"] == sum(g["left_out"] for g in data["grids"])
    town = await client.get("/v1/office/overview?town=没有这个镇", headers={"Authorization": f"Bearer {token}"})
    assert town.json()["grids"] == []


async def test_overview_page_needs_a_login_and_shows_the_same_numbers(
    client: httpx.AsyncClient, db: SqliteDatabase
) -> None:
    token = issue_office_token(db)
    page = await client.get("/office")
    assert page.status_code == 401 and "<form" in page.text and "第一网格" not in page.text
    wrong = await client.post("/office/login", data={"token": "office_guess"})
    assert (
        wrong.status_code == 401
        and "令牌不正确" in wrong.text
        and "field_office" not in wrong.headers.get("set-cookie", "")
    )
    login = await client.post("/office/login", data={"token": token})
    assert login.status_code == 303 and "HttpOnly" in login.headers["set-cookie"]
    page = await client.get("/office")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    overview = (await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {token}"})).json()
    for grid in overview["grids"]:
        row = re.search(rf'<tr data-grid="{grid["grid"]}">(.*?)</tr>', page.text, re.S)
        assert row and grid["name"] in row.group(1)
        assert f'data-left-out="{grid["left_out"]}"' in row.group(1)
        assert f"{grid['households_checked']} / {grid['households']}" in row.group(1)
        assert f"{grid['followups_today']} / {grid['in_isolation']}" in row.group(1)
    logout = await client.post("/office/logout")
    assert logout.status_code == 303
    assert (await client.get("/office")).status_code == 401


async def test_the_page_escapes_what_the_records_say(client: httpx.AsyncClient, db: SqliteDatabase) -> None:
    evil = copy.deepcopy(next(e for e in build_town() if e["kind"] == "grid" and e["grid"] == G2))
    evil["fields"]["name"] = "<script>alert(1)</script>"
    with db.transaction(G2) as tx:
        tx.put_records(G2, [evil])
    token = issue_office_token(db)
    page = await client.get("/office", headers={"Authorization": f"Bearer {token}"})
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


async def test_the_token_is_kept_only_as_a_hash_and_a_new_one_replaces_it(
    client: httpx.AsyncClient, db: SqliteDatabase, data_dir: Path
) -> None:
    first = issue_office_token(db)
    second = issue_office_token(db)
    with db.transaction() as tx:
        stored = tx.get_meta(TOKEN_META_KEY)
    assert stored and first not in stored and second not in stored
    for file in data_dir.iterdir():
        assert second.encode() not in file.read_bytes()
    assert (await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {first}"})).status_code == 401
    assert (await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {second}"})).status_code == 200


async def test_a_ledger_downloads_masked_and_is_audited(
    client: httpx.AsyncClient, db: SqliteDatabase, data_dir: Path, records: list[dict[str, Any]]
) -> None:
    token = issue_office_token(db)
    assert (await client.get(f"/office/ledgers/residents.xlsx?grid={G1}")).status_code == 401
    response = await client.get(
        f"/office/ledgers/residents.xlsx?grid={G1}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    numbers = {view(e)["id_number"] for e in records if e["kind"] == "resident"}
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert not cells & numbers and sheet.max_row > 2
    (entry,) = [json.loads(line) for line in (data_dir / "audit.jsonl").read_text("utf-8").splitlines()]
    assert entry["ledger"] == "residents" and entry["unmasked"] is False
    missing = await client.get("/office/ledgers/nothing.xlsx?grid=x", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404


def test_server_export_by_grid_and_by_town_with_audit(
    db: SqliteDatabase, data_dir: Path, tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    url = f"sqlite:///{data_dir / 'server.db'}"
    runner = CliRunner()
    one = runner.invoke(export_command, ["residents", "--grid", G1, "--out", str(tmp_path / "g1.xlsx"), "--db", url])
    assert one.exit_code == 0, one.output
    town = runner.invoke(
        export_command,
        ["special_groups", "--town", "城关镇", "--out", str(tmp_path / "t.csv"), "--db", url, "--unmasked", "--json"],
    )
    assert town.exit_code == 0, town.output
    assert json.loads(town.output)["scope"] == "城关镇（2个网格）"
    sheet = openpyxl.load_workbook(tmp_path / "g1.xlsx").active
    rows_g1 = sum(isinstance(row[0], int) for row in sheet.iter_rows(min_row=3, values_only=True))  # by 序号
    live = [view(e) for e in records if not is_deleted(e) and e["kind"] == "resident"]
    assert rows_g1 == sum(r["grid"] == G1 and r["residency"] in ("resident", "away") for r in live)
    text = (tmp_path / "t.csv").read_text("utf-8-sig")
    assert "周卧床" in text and "陈大明" in text  # both grids
    audit = [json.loads(line) for line in (data_dir / "audit.jsonl").read_text("utf-8").splitlines()]
    assert [(a["ledger"], a["unmasked"]) for a in audit] == [("residents", False), ("special_groups", True)]
    numbers = {r["id_number"] for r in live}
    assert not any(n in (data_dir / "audit.jsonl").read_text("utf-8") for n in numbers)
    listed = runner.invoke(office_group, ["audit"])
    assert "UNMASKED" in listed.output and "special_groups" in listed.output


def test_server_export_refuses_unclear_scope(db: SqliteDatabase, data_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{data_dir / 'server.db'}"
    runner = CliRunner()
    both = runner.invoke(
        server_cli,
        ["export", "visits", "--grid", G1, "--town", "城关镇", "--out", "x.csv", "--db", url, "--lang", "en"],
    )
    assert both.exit_code == 1 and "exactly one of --grid G or --town T" in both.stderr
    assert both.stderr.startswith("field-server: ") and both.stderr.count("\n") == 1
    unknown = runner.invoke(
        server_cli,
        ["export", "visits", "--town", "西湖镇", "--out", str(tmp_path / "x.csv"), "--db", url, "--lang", "en"],
    )
    assert unknown.exit_code == 1 and "towns: 城关镇" in unknown.stderr
    assert unknown.stderr.startswith("field-server: ") and unknown.stderr.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()
    listed = runner.invoke(export_command, ["--list"])
    assert listed.exit_code == 0 and "isolation" in listed.output


async def test_the_token_command_issues_a_working_token(
    db: SqliteDatabase, data_dir: Path, client: httpx.AsyncClient
) -> None:
    result = CliRunner().invoke(office_group, ["token", "--db", f"sqlite:///{data_dir / 'server.db'}", "--json"])
    assert result.exit_code == 0, result.output
    token = json.loads(result.output)["token"]
    response = await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_the_router_mounts_on_the_real_server_app(db: SqliteDatabase) -> None:
    from server_stub.app import create_app

    app = create_app(db)
    # create_app mounts the office router itself; the test checks the real wiring.
    token = issue_office_token(db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://town.test") as client:
        assert (await client.get("/v1/office/overview")).status_code == 401
        ok = await client.get("/v1/office/overview", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and len(ok.json()["grids"]) == 2
        assert (await client.get("/office", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    paths = app.openapi()["paths"]
    assert "/v1/office/overview" in paths and "/office" not in paths


# --- issue 16 items 14 and 15: ordering, mode, revoked tablets, a grid opened, one time zone ---------------------


def _extra_left_out(grid: str, names: list[str]) -> list[dict[str, Any]]:
    """Residents sampled at home (bedridden) with nothing in the grid's round: each one left out."""
    ticks = itertools.count(1_764_100_000_000)
    clock = HybridClock("00000000beef", now_ms=lambda: next(ticks))
    made = []
    for serial, name in enumerate(names):
        envelope, _ = local_edit(
            None,
            clock,
            record_id=f"01900000-0000-7000-8000-0000000b{serial:04d}",
            kind="resident",
            grid=grid,
            values={"name": name, "id_number": person(45, 300 + serial), "residency": "resident"},
            set_changes={"special_groups": {"bedridden": True}},
        )
        made.append(envelope)
    return made


def _regrid(db: SqliteDatabase, records: list[dict[str, Any]], grid: str, **fields: Any) -> None:
    envelope = copy.deepcopy(next(e for e in records if e["kind"] == "grid" and e["grid"] == grid))
    envelope["fields"].update(fields)
    with db.transaction(grid) as tx:
        tx.put_records(grid, [envelope])


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-grid="([^"]+)">', page)


async def test_grids_that_left_most_people_out_come_first_with_their_mode(
    client: httpx.AsyncClient, db: SqliteDatabase, records: list[dict[str, Any]]
) -> None:
    with db.transaction(G2) as tx:
        tx.put_records(G2, _extra_left_out(G2, ["吴一", "吴二", "吴三"]))
    _regrid(db, records, G2, mode="wartime")
    headers = {"Authorization": f"Bearer {issue_office_token(db)}"}
    data = (await client.get("/v1/office/overview", headers=headers)).json()
    assert [(g["grid"], g["left_out"]) for g in data["grids"]] == [(G2, 4), (G1, 3)]
    assert data["sort"] == "left_out"
    assert [(g["mode"], g["mode_zh"]) for g in data["grids"]] == [("wartime", "战时"), ("normal", "平时")]
    by_name = (await client.get("/v1/office/overview?sort=name", headers=headers)).json()
    assert [g["grid"] for g in by_name["grids"]] == [G1, G2]
    bad = await client.get("/v1/office/overview?sort=size", headers=headers)
    assert bad.status_code == 422 and "left_out, name" in bad.json()["error"]["message"]

    page = (await client.get("/office", headers=headers)).text
    assert _rows(page) == [G2, G1]
    assert _rows((await client.get("/office?sort=name", headers=headers)).text) == [G1, G2]
    rows = dict(re.findall(r'<tr data-grid="([^"]+)">(.*?)</tr>', page, re.S))
    assert 'data-mode="wartime"' in rows[G2] and "战时" in rows[G2] and "平时" not in rows[G2]
    assert 'data-mode="normal"' in rows[G1] and "平时" in rows[G1]


async def test_a_revoked_tablet_shows_why(client: httpx.AsyncClient, db: SqliteDatabase) -> None:
    revoked_ms = SYNCED_MS + 3_600_000
    with db.transaction() as tx:
        tx.revoke_device("dev-2", "平板丢失，捡到请联系13812345678", revoked_ms)
    headers = {"Authorization": f"Bearer {issue_office_token(db)}"}
    data = (await client.get("/v1/office/overview", headers=headers)).json()
    (device,) = next(g for g in data["grids"] if g["grid"] == G2)["devices"]
    reason = "平板丢失，捡到请联系" + mask_phone("13812345678")
    assert device["revoked"] is True and device["revoked_reason"] == reason
    assert device["revoked_at"] == dt.datetime.fromtimestamp(revoked_ms / 1000, CHINA).isoformat()
    page = (await client.get("/office", headers=headers)).text
    item = re.search(r'<li data-device="dev-2">(.*?)</li>', page, re.S)
    assert item and "已吊销" in item.group(1) and reason in item.group(1)
    assert "13812345678" not in page
    opened = (await client.get(f"/office/grids/{G2}", headers=headers)).text
    row = re.search(r'<tr data-device="dev-2">(.*?)</tr>', opened, re.S)
    assert row and "平板丢失" in row.group(1) and "已吊销" in row.group(1)


async def test_opening_a_grid_lists_who_was_left_out_masked(
    client: httpx.AsyncClient, db: SqliteDatabase, records: list[dict[str, Any]]
) -> None:
    token = issue_office_token(db)
    headers = {"Authorization": f"Bearer {token}"}
    live = [view(e) for e in records if e["grid"] == G1 and not is_deleted(e)]
    residents = [v for v in live if v["kind"] == "resident"]
    households = {v["id"]: v for v in live if v["kind"] == "household"}
    current = max(
        (v for v in live if v["kind"] == "sampling_round" and v["status"] == "open"), key=lambda r: r["started_at"]
    )
    samplings = [v for v in live if v["kind"] == "sampling"]
    expected = nobody_left_out(residents, samplings, current["id"], TODAY)  # the domain's rule, not the index's
    assert len(expected) == 3

    assert (await client.get(f"/v1/office/grids/{G1}")).status_code == 401
    assert (await client.get(f"/office/grids/{G1}")).status_code == 401
    response = await client.get(f"/v1/office/grids/{G1}", headers=headers)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    grid = response.json()["grid"]
    listed = grid["left_out_residents"]
    assert grid["left_out"] == len(listed) == 3
    assert {r["name"] for r in listed} == {r["name"] for r in expected}
    for person_left_out in expected:
        row = next(r for r in listed if r["name"] == person_left_out["name"])
        household = households[person_left_out["household"]]
        number = person_left_out["id_number"]
        assert row["id_number"] == mask_id_number(number) == number[:6] + "*" * 10 + number[-2:]
        assert (row["building"], row["unit"], row["room"]) == (
            household["building"],
            household["unit"],
            household["room"],
        )
        assert row["reasons_zh"] and "birth_date" not in row and "age" not in row
    assert [r["building"] for r in listed] == ["3", "3", "12"]  # by address, building 3 before building 12
    reasons = {r["name"]: (r["reasons_zh"], r["status_zh"]) for r in listed}
    assert reasons == {"陈宝宝": ("婴幼儿", "遗漏"), "陈小红": ("孕产妇", "遗漏"), "李强": ("慢性病", "已预约")}

    page = await client.get(f"/office/grids/{G1}", headers=headers)
    assert page.status_code == 200 and "遗漏名单" in page.text
    table = re.search(r'<table id="left-out-list">(.*?)</table>', page.text, re.S)
    assert table
    for row in listed:
        line = re.search(rf'<tr data-resident="{row["resident"]}">(.*?)</tr>', table.group(1), re.S)
        assert line and row["name"] in line.group(1) and row["id_number"] in line.group(1)
        assert row["reasons_zh"] in line.group(1)
    numbers = {v["id_number"] for v in residents}
    births = {f"{n[6:10]}-{n[10:12]}-{n[12:14]}" for n in numbers}
    for text in (page.text, response.text):
        assert not any(n in text for n in numbers) and not any(b in text for b in births)
    overview = (await client.get("/office", headers=headers)).text
    assert f'href="/office/grids/{G1}"' in overview and f'href="/office/grids/{G1}#left-out"' in overview

    nobody = (await client.get(f"/v1/office/grids/{G2}", headers=headers)).json()["grid"]
    assert [r["name"] for r in nobody["left_out_residents"]] == ["周卧床"]
    missing = await client.get("/v1/office/grids/no-such-grid", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    missing_page = await client.get("/office/grids/no-such-grid", headers=headers)
    assert missing_page.status_code == 404 and "没有这个网格" in missing_page.text


def _shown(iso: str) -> str:
    """A time as the page and the command line show it, to the minute."""
    return iso[:16].replace("T", " ")


@pytest.mark.parametrize(("zone", "offset"), [(None, "+08:00"), ("Asia/Urumqi", "+06:00"), ("Asia/Kolkata", "+05:30")])
async def test_the_page_json_and_cli_show_one_time_zone_the_towns(
    client: httpx.AsyncClient,
    db: SqliteDatabase,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str | None,
    offset: str,
) -> None:
    if zone:
        monkeypatch.setenv("FIELD_SERVER_TZ", zone)
    else:
        monkeypatch.delenv("FIELD_SERVER_TZ", raising=False)
    local = dt.datetime.fromtimestamp(SYNCED_MS / 1000, ZoneInfo(zone or "Asia/Shanghai"))
    assert local.isoformat().endswith(offset)
    headers = {"Authorization": f"Bearer {issue_office_token(db)}"}
    data = (await client.get("/v1/office/overview", headers=headers)).json()
    assert data["time_zone"] == (zone or "Asia/Shanghai") and data["generated_at"].endswith(offset)
    device = next(d for g in data["grids"] for d in g["devices"] if d["id"] == "dev-0")
    assert device["last_sync"] == local.isoformat()
    page = (await client.get("/office", headers=headers)).text
    item = re.search(r'<li data-device="dev-0">(.*?)</li>', page, re.S)
    assert item and _shown(local.isoformat()) in item.group(1)
    assert (zone or "Asia/Shanghai") in page

    url = f"sqlite:///{data_dir / 'server.db'}"
    listed = CliRunner().invoke(server_cli, ["device", "list", "--db", url])
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.stdout.splitlines() if line.startswith("dev-0"))
    assert f"last sync {local.isoformat(sep=' ')}" in line and "Z" not in line
    as_json = json.loads(CliRunner().invoke(server_cli, ["device", "list", "--json", "--db", url]).stdout)
    row = next(d for d in as_json["devices"] if d["id"] == "dev-0")
    assert row["last_sync"] == SYNCED_MS and row["last_sync_at"] == local.isoformat()
    assert row["created_at"].endswith(offset) and row["revoked_at"] is None


def test_a_time_zone_that_is_not_one_is_refused_in_one_line(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELD_SERVER_TZ", "Beijing")
    result = CliRunner().invoke(server_cli, ["device", "list", "--db", f"sqlite:///{data_dir / 'server.db'}"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("field-server: FIELD_SERVER_TZ='Beijing' is not a time zone name")
    assert "Asia/Shanghai" in result.stderr
