"""``field-server town config show|set`` on SQLite and PostgreSQL: dated versions kept in the database, the one in
force on each day, every problem of a bad file reported (in Chinese and English) with nothing stored, an audit entry
per change, ``town retention`` as a shortcut writing a version; and what the pull's last page carries."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from server_stub.cli import cli
from server_stub.town_config import history, in_force
from server_stub.town_time import configured_zone, town_today

from .harness import Harness, household

ROLES = [
    {"key": "information", "zh_CN": "信息员", "en": "Information officer"},
    {"key": "service", "zh_CN": "服务员", "en": "Service officer"},
]
TWO_ROLES = {
    "roles": ROLES,
    "role_to_group": {"information": "tracing", "service": "supplies"},
    "group_to_role": {"sampling": "service", "tracing": "information"},
    "eligibility": {"groups": ["elderly", "disabled"], "home_isolation": False},
}


@pytest.fixture(autouse=True)
def town_zone_reset() -> Iterator[None]:
    """The town's zone read from a configuration is per process: leave none behind for other tests."""
    yield
    configured_zone(None)


def office(tmp_path: Path, db_url: str, *args: str, ok: bool = True) -> Result:
    """The command with its own data dir (its audit log), sealing with the test run's key (as the harness does)."""
    key = {"FIELD_SERVER_KEY_FILE": str(Path(os.environ["FIELD_SERVER_DATA_DIR"]) / "server.key")}
    if db_url.startswith("sqlite"):
        key = {}  # beside the database file
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args, "--db", db_url], env=key)
    assert (result.exit_code == 0) == ok, result.output
    return result


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(data))
    return str(path)


def test_versions_are_set_shown_and_chosen_by_their_date(tmp_path: Path, db_url: str) -> None:
    today = town_today()
    shown = orjson.loads(office(tmp_path, db_url, "town", "config", "show", "--json").stdout)
    assert shown["versions"] == [] and shown["in_force"]["tablet_retention_days"] == 14
    assert "the built-in defaults" in office(tmp_path, db_url, "town", "config", "show").stdout

    first = write(tmp_path, "first.json", TWO_ROLES)
    set_now = orjson.loads(office(tmp_path, db_url, "town", "config", "set", "--from", first, "--json").stdout)
    assert set_now["version"] == 1 and set_now["effective"] == today.isoformat()
    later = write(tmp_path, "later.json", {"tablet_retention_days": 30})
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    added = office(tmp_path, db_url, "town", "config", "set", "--from", later, "--effective", tomorrow).stdout
    assert f"version 2 applies from {tomorrow}" in added

    shown = orjson.loads(office(tmp_path, db_url, "town", "config", "show", "--json").stdout)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["in_force"]["version"] == 1 and shown["in_force"]["tablet_retention_days"] == 14
    assert [r["key"] for r in shown["versions"][1]["roles"]] == ["information", "service"]  # kept from version 1
    text = office(tmp_path, db_url, "town", "config", "show").stdout
    assert "roles: information 信息员, service 服务员" in text and "* version 1" in text

    from server_stub.db import open_database

    db = open_database(db_url)
    try:
        assert in_force(db, today + dt.timedelta(days=1)).tablet_retention_days == 30
        assert in_force(db, today - dt.timedelta(days=1)).version == 0  # before the first: the defaults
        assert len(history(db).versions) == 2
    finally:
        db.close()

    # the retention shortcut writes a version from today, the rest as in force
    assert "3 days" in office(tmp_path, db_url, "town", "retention", "--days", "3").stdout
    shown = orjson.loads(office(tmp_path, db_url, "town", "config", "show", "--json").stdout)
    assert shown["in_force"]["version"] == 3 and shown["in_force"]["tablet_retention_days"] == 3
    assert shown["in_force"]["eligibility"]["groups"] == ["disabled", "elderly"]

    audit = [orjson.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["version"]) for e in audit] == [("town_config", 1), ("town_config", 2), ("town_config", 3)]
    assert audit[1]["changed"] == ["tablet_retention_days"] and audit[1]["effective"] == tomorrow


def test_a_bad_file_is_refused_whole_with_every_problem_placed(tmp_path: Path, db_url: str) -> None:
    bad = write(
        tmp_path,
        "bad.json",
        {
            **TWO_ROLES,
            "colour": "red",
            "role_to_group": {"information": "nowhere", "service": "supplies"},
            "time_zone": "Mars/Olympus",
        },
    )
    result = office(tmp_path, db_url, "town", "config", "set", "--from", bad, ok=False)
    assert "未保存" in result.stderr
    assert "role_to_group.information: 所写的分组不在分组列表中" in result.stderr
    assert "time_zone: 应为时区名" in result.stderr and "colour:" in result.stderr
    as_json = orjson.loads(office(tmp_path, db_url, "town", "config", "set", "--from", bad, "--json", ok=False).stdout)
    assert {p["where"]: p["key"] for p in as_json["problems"]} == {
        "colour": "town.unknown_key",
        "role_to_group.information": "town.unknown_group",
        "time_zone": "town.time_zone",
    }
    assert all(p["en"] and p["zh_CN"] for p in as_json["problems"])
    wrong_day = office(tmp_path, db_url, "town", "config", "set", "--from", bad, "--effective", "2026-13-01", ok=False)
    assert "YYYY-MM-DD" in wrong_day.stderr
    not_json = tmp_path / "notes.json"
    not_json.write_text("roles: many", encoding="utf-8")
    unreadable = office(tmp_path, db_url, "town", "config", "set", "--from", str(not_json), ok=False)
    assert "notes.json: 应为一组设置" in unreadable.stderr
    assert orjson.loads(office(tmp_path, db_url, "town", "config", "show", "--json").stdout)["versions"] == []
    assert not (tmp_path / "audit.jsonl").exists()


async def test_the_last_page_carries_the_versions_and_the_push_follows_the_roles(any_server: Harness) -> None:
    from server_stub.town_config import set_config

    grid = any_server.grid()
    tablet = await any_server.tablet(grid)
    await tablet.push_ok([tablet.edit(values=household("1栋"))])
    page = (await tablet.client.get("/v1/pull", params={"cursor": 0})).json()
    assert "town_config" not in page  # nothing set: the page is as before
    set_config(any_server.db, TWO_ROLES, town_today() - dt.timedelta(days=5))
    set_config(any_server.db, {"tablet_retention_days": 2}, town_today() - dt.timedelta(days=2))
    set_config(any_server.db, {"tablet_retention_days": 9}, town_today() + dt.timedelta(days=3))
    page = (await tablet.client.get("/v1/pull", params={"cursor": 0})).json()
    assert [v["version"] for v in page["town_config"]] == [2, 3]  # in force and to come; not the older one
    assert page["tablet_retention_days"] == 2

    task = {"title": "巡查", "task_kind": "patrol", "status": "open"}
    refused = await tablet.push_ok([tablet.edit(kind="task", values={**task, "role": "patrol"})])
    assert refused[0]["status"] == "refused" and refused[0]["code"] == "invalid_record"
    assert (await tablet.push_ok([tablet.edit(kind="task", values={**task, "role": "service"})]))[0]["status"] == (
        "applied"
    )


GROUP_ROWS = [
    ["coordination", "综合协调组", "Coordination", "information"],
    ["tracing", "流调排查组", "Tracing", "information"],
    ["supplies", "物资保障组", "Supplies", "service"],
]


def workbook(tmp_path: Path, name: str, settings: list[list[Any]], roles: list[list[Any]] | None = None) -> str:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "设置"
    for row in settings:
        sheet.append(row)
    if roles is not None:
        role_sheet = book.create_sheet("角色")
        role_sheet.append(["键", "中文名", "英文名", "战时分组"])
        for row in roles:
            role_sheet.append(row)
        group_sheet = book.create_sheet("分组")
        group_sheet.append(["键", "中文名", "英文名", "平时角色"])
        for row in GROUP_ROWS:
            group_sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return str(path)


def test_a_workbook_sets_a_version_and_its_problems_are_named_by_cell(tmp_path: Path, sqlite_url: str) -> None:
    good = workbook(
        tmp_path,
        "town.xlsx",
        [
            ["项目", "值"],
            ["生效日期", dt.date(2026, 1, 1)],
            ["平板保留天数", 7],
            ["上门采样人群", "elderly、disabled"],
            ["居家隔离上门采样", "否"],
        ],
        [
            ["information", "信息员", "Information officer", "tracing"],
            ["service", "服务员", "Service officer", "supplies"],
        ],
    )
    added = orjson.loads(office(tmp_path, sqlite_url, "town", "config", "set", "--from", good, "--json").stdout)
    assert added["effective"] == "2026-01-01" and added["tablet_retention_days"] == 7
    assert added["eligibility"] == {
        "groups": ["disabled", "elderly"],
        "home_isolation": False,
        "excluded_residency": ["away"],
    }
    assert [r["key"] for r in added["roles"]] == ["information", "service"]
    assert added["role_to_group"] == {"information": "tracing", "service": "supplies"}

    bad = workbook(
        tmp_path,
        "bad.xlsx",
        [["项目", "值"], ["平板保留天数", "两周"], ["时区", "北京"], ["颜色", "红"], ["居家隔离上门采样", "也许"]],
        [["information", "", "Information officer", "tracing"], ["Patrol", "巡查员", "Patrol", "nowhere"]],
    )
    result = office(tmp_path, sqlite_url, "town", "config", "set", "--from", bad, "--json", ok=False)
    cells = {p["where"]: p["key"] for p in orjson.loads(result.stdout)["problems"]}
    assert cells == {"设置!A4": "town.setting_name"}  # the file itself first: a row that names no setting
    bad = workbook(
        tmp_path,
        "bad2.xlsx",
        [["项目", "值"], ["平板保留天数", "两周"], ["时区", "北京"], ["居家隔离上门采样", "也许"]],
        [["information", "", "Information officer", "tracing"], ["Patrol", "巡查员", "Patrol", "nowhere"]],
    )
    result = office(tmp_path, sqlite_url, "town", "config", "set", "--from", bad, ok=False)
    assert "角色!B2: 应为一行名称" in result.stderr and "角色!A3: 应为小写字母开头" in result.stderr
    assert "设置!B2: 应为 0 到 3650 之间的天数" in result.stderr and "设置!B3: 应为时区名" in result.stderr
    assert "设置!B4: 只能是“是”或“否”" in result.stderr  # 居家隔离上门采样: 也许
    assert len(orjson.loads(office(tmp_path, sqlite_url, "town", "config", "show", "--json").stdout)["versions"]) == 1
