"""No masked output of the demo town narrows anyone's ID number (or phone) below 1,000 candidates.

Every masked export a user can make of the demo town — every ledger as .xlsx and .csv from the tablet's
``field-agent export`` (each campaign's ledger too) and the server's ``field-server export``, every ledger
downloaded from the office page, the office overview (page and JSON), a grid opened on the office page (its
left-out residents, page and JSON), and ``field-agent records get/list --json`` — is parsed as an outsider would
read it, and for every row the ID numbers that fit what the row shows are counted (tests/ledgers/candidates.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from field_agent.cli.main import cli
from field_agent.domain.demo import demo_envelopes, generate_demo
from field_agent.domain.demo_campaigns import demo_campaigns
from field_agent.domain.demo_data import FUQING_REGION
from field_agent.domain.envelope import view
from field_agent.domain.hlc import HybridClock
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.index import CHINA
from server_stub.cli import cli as server_cli
from server_stub.db.sqlite import SqliteDatabase
from server_stub.office import issue_office_token, router

from .candidates import THRESHOLD, id_candidates, phone_candidates, row_id_candidates
from .conftest import PASSPHRASE, make_store
from .town import with_key_person_tags

TODAY = dt.datetime.now(CHINA).date()  # the exports date themselves by the clock, as users run them
MASKED_ID = re.compile(r"[0-9*]{17}[0-9X*]")
FULL_NUMBER = re.compile(r"\d{17}[\dX]|\d{15}|1\d{10}|0\d{2,3}-\d{7,8}")


@pytest.fixture(scope="module")
def demo_records() -> list[Any]:
    """The demo town as ``field-agent demo`` makes it: seed 1, one grid of 300 households; some residents marked as
    key persons (重点人员台账) and some households 群租, which the demo leaves out."""
    return with_key_person_tags(generate_demo(seed=1, grids=1, households_per_grid=300, today=TODAY))


@pytest.fixture(scope="module")
def envelopes(demo_records: list[Any]) -> list[dict[str, Any]]:
    ticks = itertools.count(1_764_000_000_000)
    return demo_envelopes(demo_records, HybridClock("0123456789ab", now_ms=lambda: next(ticks)))


@pytest.fixture(scope="module")
def secrets(envelopes: list[dict[str, Any]]) -> dict[str, set[str]]:
    """What no masked output may hold in full: the town's ID numbers and phones."""
    views = [view(e) for e in envelopes]
    numbers = {v["id_number"] for v in views if v.get("id_number")}
    phones = {v["phone"] for v in views if v.get("phone")}
    return {"id": numbers, "phone": phones, "all": numbers | phones}


# --- reading the outputs as an outsider would ---------------------------------------------------------------


def table_from_rows(rows: list[list[Any]]) -> tuple[dt.date, list[dict[str, str]]]:
    """A ledger file's rows (title, headers, data) as the export date and dicts keyed by Chinese header."""
    title = str(rows[0][0])
    found = re.search(r"制表日期 (\d{4}-\d\d-\d\d)", title)
    assert found, title
    headers = [str(h) for h in rows[1]]
    data = [{h: "" if c is None else str(c) for h, c in zip(headers, row, strict=False)} for row in rows[2:]]
    return dt.date.fromisoformat(found.group(1)), data


def read_xlsx(data: bytes) -> tuple[dt.date, list[dict[str, str]]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return table_from_rows([list(row) for row in sheet.iter_rows(values_only=True)])


def read_csv(data: bytes) -> tuple[dt.date, list[dict[str, str]]]:
    return table_from_rows(list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))))


@cache
def _row_count(items: tuple[tuple[str, str], ...], today: dt.date) -> int | None:
    return row_id_candidates(dict(items), today, FUQING_REGION)


def assert_rows_hold(where: str, today: dt.date, rows: list[dict[str, str]], secrets: dict[str, set[str]]) -> int:
    """Every row: ≥ 1,000 candidate ID numbers and phones, and no full number in any cell. Returns the fewest."""
    fewest = 10**9
    narrow: list[str] = []
    phones_narrow: list[str] = []
    for line, row in enumerate(rows, start=3):
        shown = {k: row[k] for k in ("公民身份号码", "性别", "年龄", "出生日期", "特殊人群", "人群类别") if k in row}
        count = _row_count(tuple(sorted(shown.items())), today)
        if count is not None:
            fewest = min(fewest, count)
            if count < THRESHOLD:
                narrow.append(f"line {line}: {shown} → {count} candidates")
        if row.get("联系电话") and phone_candidates(row["联系电话"]) < THRESHOLD:
            phones_narrow.append(f"line {line}: {row['联系电话']} → {phone_candidates(row['联系电话'])} candidates")
        for header, cell in row.items():
            assert not set(FULL_NUMBER.findall(cell)) & secrets["all"], f"{where} line {line}: a full number"
            if header == "公民身份号码":
                continue
            for masked in MASKED_ID.findall(cell):  # a list of people in one cell (出租房屋台账's tenants)
                listed = id_candidates(masked, today=today, region=FUQING_REGION, stop_at=THRESHOLD)
                fewest = min(fewest, listed)
                if listed < THRESHOLD:
                    narrow.append(f"line {line}, {header}: {masked} → {listed} candidates")
    assert not narrow, f"{where}: {len(narrow)} of {len(rows)} ID numbers narrowed below {THRESHOLD}:\n" + "\n".join(
        narrow[:3]
    )
    assert not phones_narrow, f"{where}: {len(phones_narrow)} phones narrowed below {THRESHOLD}:\n" + "\n".join(
        phones_narrow[:3]
    )
    return fewest


def assert_text_holds(where: str, text: str, secrets: dict[str, set[str]]) -> None:
    """A page or JSON with no columns beside its numbers: no full number, and each masked one ≥ 1,000."""
    assert not set(FULL_NUMBER.findall(text)) & secrets["all"], f"{where}: a full number"
    for masked in MASKED_ID.findall(text):
        if "*" in masked:
            count = id_candidates(masked, today=TODAY, region=FUQING_REGION, stop_at=THRESHOLD)
            assert count >= THRESHOLD, f"{where}: {masked} → {count}"


# --- the tablet -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_store(tmp_path_factory: pytest.TempPathFactory, demo_records: list[Any]) -> Path:
    return make_store(tmp_path_factory.mktemp("tablet") / "store", demo_records, role="worker")


def field_agent(store: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_every_ledger_the_tablet_exports_keeps_1000_candidates_per_row(
    worker_store: Path, tmp_path: Path, secrets: dict[str, set[str]], suffix: str
) -> None:
    fewest: dict[str, int] = {}
    residents_rows = 0
    for name in load_definitions():
        out = tmp_path / f"{name}{suffix}"
        field_agent(worker_store, "export", name, "--out", str(out))
        today, rows = (read_xlsx if suffix == ".xlsx" else read_csv)(out.read_bytes())
        assert abs((today - TODAY).days) <= 1  # the export is dated by the clock (midnight may pass)
        fewest[name] = assert_rows_hold(f"{name}{suffix}", today, rows, secrets)
        if name == "residents":
            residents_rows = len(rows)
        if name in ("key_persons", "rented_housing", "grid_staff"):  # the new ledgers hold people to count
            assert rows, f"{name}{suffix}: no rows"
        if name == "rented_housing":  # each tenant's masked number in the tenants' cell was counted
            assert any(MASKED_ID.search(row["租住人员（姓名 身份证号）"]) for row in rows)
    assert residents_rows > 300  # the demo's 常住人口台账: hundreds of people, every one counted
    assert min(fewest.values()) >= THRESHOLD


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_every_campaign_ledger_the_tablet_exports_keeps_1000_candidates_per_row(
    worker_store: Path, tmp_path: Path, secrets: dict[str, set[str]], suffix: str
) -> None:
    """A campaign's ledger (campaign:KEY) shows the masked number beside the name, address and answers."""
    for campaign in demo_campaigns(TODAY):
        out = tmp_path / f"{campaign.template}{suffix}"
        field_agent(worker_store, "export", f"campaign:{campaign.key}", "--out", str(out))
        today, rows = (read_xlsx if suffix == ".xlsx" else read_csv)(out.read_bytes())
        assert rows and ("公民身份号码" in rows[0] or "联系电话" in rows[0])  # the counter sees the numbers
        where = f"campaign:{campaign.key}{suffix}"
        for line, row in enumerate(rows, start=3):  # no age, sex or birth date beside the number: counted to 1,000
            assert not set(FULL_NUMBER.findall(" ".join(row.values()))) & secrets["all"], f"{where} line {line}"
            if row.get("公民身份号码"):
                shown = {"公民身份号码": row["公民身份号码"]}
                count = row_id_candidates(shown, today, FUQING_REGION, stop_at=THRESHOLD)
                assert count is not None and count >= THRESHOLD, f"{where} line {line}: {count}"
            if row.get("联系电话"):
                assert phone_candidates(row["联系电话"]) >= THRESHOLD, f"{where} line {line}"


def test_records_get_and_list_print_masked_numbers(worker_store: Path, secrets: dict[str, set[str]]) -> None:
    listed = field_agent(worker_store, "records", "list", "--json").stdout
    assert_text_holds("records list --json", listed, secrets)
    residents = [r for r in json.loads(listed) if r["kind"] == "resident"]
    assert residents and all(MASKED_ID.fullmatch(r["id_number"]) and "*" in r["id_number"] for r in residents)
    one = residents[0]["id"]
    for flags in (["--json"], ["--envelope"], []):
        assert_text_holds(
            f"records get {flags}", field_agent(worker_store, "records", "get", one, *flags).stdout, secrets
        )


def test_roster_import_reports_quote_no_numbers(
    tmp_path: Path, demo_records: list[Any], envelopes: list[dict[str, Any]], secrets: dict[str, set[str]]
) -> None:
    """A roster of demo people with broken rows: the report names lines and reasons, never a number."""
    people = [view(e) for e in envelopes if e["kind"] == "resident"][:12]
    rows = [[p["name"], p["id_number"], p.get("phone") or "", "9", "1", f"{n + 1}01"] for n, p in enumerate(people)]
    rows[1][1] = rows[1][1][:-1] + ("1" if rows[1][1][-1] != "1" else "2")  # wrong check character
    rows[2][2] = rows[2][2][:-1] if rows[2][2] else "1381234567"  # a digit short
    rows[3][1] = rows[0][1]  # the same ID number twice
    roster = tmp_path / "roster.csv"
    lines = [["姓名", "公民身份号码", "联系电话", "楼栋", "单元", "房号"], *rows]
    roster.write_text("\n".join(",".join(line) for line in lines), "utf-8-sig")
    mistyped = {rows[1][1], rows[2][2]}
    store = make_store(tmp_path / "store", demo_records, role="worker")
    for flags in (["--json"], [], ["--skip-invalid", "--json"]):
        result = CliRunner().invoke(
            cli, ["--store", str(store), "import", str(roster), *flags], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE}
        )
        report = result.stdout + result.stderr
        assert "第3行" in report or '"line": 3' in report, report
        assert_text_holds(f"import {flags}", report, {"all": secrets["all"] | mistyped})


# --- the town server -------------------------------------------------------------------------------------------


@pytest.fixture
def server_db(tmp_path: Path, envelopes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Iterable[Path]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    monkeypatch.setenv("FIELD_SERVER_DATA_DIR", str(data_dir))
    database = SqliteDatabase(data_dir / "server.db")
    for grid in {e["grid"] for e in envelopes}:
        with database.transaction(grid) as tx:
            tx.put_records(grid, [e for e in envelopes if e["grid"] == grid])
    database.close()
    yield data_dir / "server.db"


def test_every_ledger_the_server_exports_keeps_1000_candidates_per_row(
    server_db: Path, tmp_path: Path, envelopes: list[dict[str, Any]], secrets: dict[str, set[str]]
) -> None:
    town = next(view(e)["town"] for e in envelopes if e["kind"] == "grid")
    for name, suffix in itertools.product(load_definitions(), (".xlsx", ".csv")):
        out = tmp_path / f"{name}{suffix}"
        args = ["export", name, "--town", town, "--out", str(out), "--db", f"sqlite:///{server_db}"]
        result = CliRunner().invoke(server_cli, args)
        assert result.exit_code == 0, result.output
        today, rows = (read_xlsx if suffix == ".xlsx" else read_csv)(out.read_bytes())
        assert_rows_hold(f"server {name}{suffix}", today, rows, secrets)


@pytest.fixture
async def office(server_db: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    database = SqliteDatabase(server_db)
    app = FastAPI()
    app.state.db = database
    app.include_router(router)
    token = issue_office_token(database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://office.test") as client:
        yield client, token
    database.close()


async def test_the_office_page_json_and_downloads_keep_1000_candidates_per_row(
    office: tuple[httpx.AsyncClient, str], envelopes: list[dict[str, Any]], secrets: dict[str, set[str]]
) -> None:
    client, token = office
    headers = {"Authorization": f"Bearer {token}"}
    overview = await client.get("/v1/office/overview", headers=headers)
    page = await client.get("/office", headers=headers)
    assert overview.status_code == page.status_code == 200
    assert_text_holds("office overview JSON", overview.text, secrets)
    assert_text_holds("office page", page.text, secrets)
    grid = next(e["grid"] for e in envelopes if e["kind"] == "grid")
    opened = await client.get(f"/v1/office/grids/{grid}", headers=headers)
    opened_page = await client.get(f"/office/grids/{grid}", headers=headers)
    assert opened.status_code == opened_page.status_code == 200
    assert_text_holds("a grid opened, JSON", opened.text, secrets)
    assert_text_holds("a grid opened, page", opened_page.text, secrets)
    left_out = opened.json()["grid"]["left_out_residents"]
    assert len(left_out) > 20 and all(r["id_number"] in opened_page.text for r in left_out)
    for resident in left_out:
        count = row_id_candidates(left_out_row(resident), TODAY, FUQING_REGION, stop_at=THRESHOLD)
        assert count is not None and count >= THRESHOLD, f"a grid opened: {left_out_row(resident)} → {count}"
    for name in load_definitions():
        response = await client.get(f"/office/ledgers/{name}.xlsx?grid={grid}", headers=headers)
        assert response.status_code == 200
        today, rows = read_xlsx(response.content)
        assert_rows_hold(f"office {name}.xlsx", today, rows, secrets)


def left_out_row(resident: dict[str, Any]) -> dict[str, str]:
    """A left-out resident as the counter reads a row: the masked number and what the reasons tell of the age.

    The reasons name the groups that make someone sampled at home (docs/DOMAIN.md), one age group each, the
    most specific (80岁以上高龄 and 婴幼儿 are age groups, as the ledgers show them). Everyone else is told to be 3
    to 79; the counter, given no age group, takes them as 3 to 59, which leaves fewer candidates than an outsider
    has: the stricter count.
    """
    return {"公民身份号码": resident["id_number"], "人群类别": resident["reasons_zh"]}


# --- the counter itself -------------------------------------------------------------------------------------------


def test_the_counter_finds_what_the_old_mask_gave_away() -> None:
    """The count is right where it can be worked out by hand: the old mask beside a birth date leaves one
    number, beside age and sex about 365 / 11 ≈ 33; nothing but the region and age leaves 365 × 500 numbers."""
    number = "35018119900307123X"  # a valid number (check character X): born 1990-03-07, order 123 (male)
    day = dt.date(2026, 12, 5)
    old = "350181********123X"
    assert id_candidates(old, today=day, region=FUQING_REGION, birth=dt.date(1990, 3, 7)) == 1
    assert 25 <= id_candidates(old, today=day, region=FUQING_REGION, sex="male", age=36) <= 40
    assert id_candidates(number, today=day, region=FUQING_REGION, age=36) == 1
    bare = "350181" + "*" * 12
    assert id_candidates(bare, today=day, region=FUQING_REGION, sex="male", age=36) == 365 * 500
    infant = id_candidates(bare[:-1] + "4", today=day, region=FUQING_REGION, age=0, groups={"infant"})
    assert 365 * 1000 // 11 - 500 < infant < 365 * 1000 // 11 + 500
    assert phone_candidates("138****5678") < THRESHOLD  # the prefix and the town give the block away
    assert phone_candidates("0591-****4321") < THRESHOLD  # the town has few exchanges
