"""The five ledgers beyond the six (issue 18): key persons, rented housing, grid staff and tasks, supplies.

Each is built from records made here the way a device makes them, and checked row by row against those records;
then exported with ``field-agent export`` from a real store of the demo town, as .csv and .xlsx.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.envelope import is_deleted, view
from field_agent.ledgers.builder import build_ledger
from field_agent.ledgers.csv_text import unprotect
from field_agent.ledgers.definitions import parse_definitions
from field_agent.ledgers.writers import write_ledger

from .conftest import PASSPHRASE, make_store
from .town import G1, TODAY, TownBuilder, day, moment, person

MASKED_ID = re.compile(r"\d{6}\*{10}[0-9X]{2}")
NEW = ("key_persons", "rented_housing", "grid_staff", "grid_tasks", "supplies")


@pytest.fixture(scope="module")
def grid() -> dict[str, Any]:
    """One grid with every case the new ledgers tell apart; returns its envelopes and the ids and numbers used."""
    t = TownBuilder()
    members = [
        {"name": "林长", "role": "information", "phone": "13800001111"},
        {"name": "黄巡", "role": "patrol", "phone": "13800002222"},
        {"name": "许服务", "role": "service", "group": "sampling", "phone": "13800003333"},
    ]
    t.add(
        "grid",
        G1,
        {
            "town": "城关镇",
            "community": "东门社区",
            "name": "第一网格",
            "mode": "normal",
            "leader": "林长",
            "members": members,
        },
    )
    ids = {n: person(age, n, sex) for n, age, sex in ((1, 41, "male"), (2, 52, "female"), (3, 70, "male"))}
    ids |= {n: person(age, n) for n, age in ((4, 35), (5, 28), (6, 30), (7, 33), (8, 45), (9, 61), (10, 26))}

    def household(room: str, tags: list[str] | None = None, **extra: Any) -> str:
        values = {"building": "3", "unit": "1", "room": room, "address": f"东门小区3栋1单元{room}室", **extra}
        return t.add("household", G1, values, {"tags": tags} if tags else None)

    def resident(home: str, name: str, n: int, residency: str = "resident", tags: list[str] | None = None, **extra):
        values = {"household": home, "name": name, "id_number": ids[n], "residency": residency, **extra}
        return t.add("resident", G1, values, {"tags": tags} if tags else None)

    h1 = household("101", head="陈矫正", phone="13912345678")
    h2 = household("102", ["出租"], head="王房东", phone="0591-85123456")
    h3 = household("103", head="李甲")  # everyone floating, untagged
    h4 = household("104", head="赵本地")  # registered and floating together, untagged: not rented
    h5 = household("105", ["群租", "rented", "独居老人"], head="周租")
    h6 = household("106", head="孙外出")  # the owner away, tenants floating
    people = {
        "陈矫正": resident(h1, "陈矫正", 1, tags=["社区矫正"], phone="13712345678", notes="每月报到"),
        "刘两类": resident(h1, "刘两类", 2, tags=["刑满释放", "重点人员"]),
        "赵外出": resident(h4, "赵外出", 3, "away", tags=["严重精神障碍"]),
        "独居": resident(h4, "赵本地", 4, tags=["独居老人"]),
        "王租客": resident(h2, "王租客", 5),
        "李甲": resident(h3, "李甲", 6, "floating"),
        "李乙": resident(h3, "李乙", 7, "floating"),
        "流动": resident(h4, "钱流动", 8, "floating"),
        "孙外出": resident(h6, "孙外出", 9, "away"),
        "吴租客": resident(
            h6, "吴租客", 10, "floating", isolation_status="home", isolation_start=day(-1), isolation_days=7
        ),
    }
    gone = resident(h1, "已删除", 3, tags=["吸毒人员"])
    t.delete(gone)
    t.add("visit", G1, {"household": h1, "visited_at": moment(-2, 9), "worker": "林长", "outcome": "met"})
    t.add("visit", G1, {"household": h1, "visited_at": moment(-1, 22), "worker": "林长", "outcome": "nobody_home"})

    def task(title: str, kind: str, status: str, **extra: Any) -> str:
        return t.add("task", G1, {"title": title, "task_kind": kind, "status": status, **extra})

    task("夜间巡查", "patrol", "open", role="patrol", assignee="黄巡", due=day(-1))  # overdue
    task("巡查楼道", "patrol", "in_progress", role="patrol", assignee="黄巡", due=day(2))
    task("消杀", "disinfection", "done", role="safety", assignee="黄巡", due=day(-3))
    task("取消的巡查", "patrol", "cancelled", role="patrol", assignee="黄巡", due=day(-5))
    t.add(
        "task",
        G1,
        {
            "title": "张贴告知书",
            "task_kind": "publicity",
            "status": "open",
            "group": "publicity",
            "assignee": "志愿者小杨",
        },
        {"coverage": ["10号楼", "2号楼"]},
    )
    task("无人负责", "other", "open")
    supplies = t.add(
        "campaign",
        G1,
        {
            "key": "winter-rice",
            "name": "冬季慰问物资发放",
            "template": "supplies",
            "definition": {"fields": ["item", "quantity", "received_by"]},
            "status": "active",
            "starts": day(-3),
            "ends": day(3),
        },
    )
    vaccines = t.add(
        "campaign",
        G1,
        {"key": "flu", "name": "流感疫苗接种", "template": "vaccination", "status": "active", "starts": day(-3)},
    )

    def result(campaign: str, target: str, status: str, answers: dict[str, Any], **extra: Any) -> str:
        values = {"campaign": campaign, "target": target, "status": status, "answers": answers, **extra}
        return t.add("campaign_result", G1, values)

    result(
        supplies,
        h1,
        "received",
        {"item": "大米", "quantity": 2.0, "received_by": "陈矫正"},
        household=h1,
        at="2026-12-05T01:30:00+00:00",  # 09:30 in town time
        by="许服务",
    )
    result(
        supplies,
        people["李甲"],
        "refused",
        {"item": "食用油", "quantity": 1},
        reason="已搬走，电话13912345678",
        by="许服务",
    )
    result(vaccines, people["王租客"], "received", {"dose": 1}, household=h2, by="许服务")
    t.delete(result(supplies, h2, "received", {"item": "大米", "quantity": 1, "received_by": "王房东"}, household=h2))
    return {"envelopes": list(t.envelopes.values()), "ids": ids, "households": [h1, h2, h3, h4, h5, h6]}


def rows(name: str, envelopes: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    return build_ledger(name, envelopes, today=TODAY, **options).as_dicts()


# --- 重点人员台账 ---------------------------------------------------------------------------------------------


def test_key_persons_are_the_tagged_residents_grouped_by_category_with_masked_numbers(grid: dict[str, Any]) -> None:
    ledger = build_ledger("key_persons", grid["envelopes"], today=TODAY)
    found = ledger.as_dicts()
    # by category in the definition's order (重点人员 first, then 社区矫正 …); the away one stays; untagged, 独居老人
    # only and deleted residents are not key persons
    assert [(r["name"], r["matched_tags_zh"]) for r in found] == [
        ("刘两类", "重点人员、刑满释放"),
        ("陈矫正", "社区矫正"),
        ("赵外出", "严重精神障碍"),
    ]
    _, chen, away = found
    assert MASKED_ID.fullmatch(chen["id_number"]) and chen["id_number"].endswith(grid["ids"][1][-2:])
    assert chen["phone"] == "*******5678" and chen["sex_zh"] == "男" and chen["age"] == 41
    assert chen["address"] == "东门小区3栋1单元101室" and chen["head"] == "陈矫正"
    assert chen["last_visit"] == TODAY - dt.timedelta(days=1)  # the latest visit, nobody home or not
    assert away["residency_zh"] == "外出"
    assert "备注" not in ledger.headers and "每月报到" not in str(ledger.rows)  # notes-free
    full = rows("key_persons", grid["envelopes"], masked=False)
    assert full[1]["id_number"] == grid["ids"][1] and full[1]["phone"] == "13712345678"


def test_a_town_chooses_its_own_key_person_words(grid: dict[str, Any]) -> None:
    definitions = parse_definitions(
        {
            "ledgers": [
                {
                    "name": "key_persons",
                    "source": "resident",
                    "tags": ["独居老人", "社区矫正"],
                    "filter": [{"field": "matched_tags", "nonempty": True}],
                    "sort": ["matched_rank", "name"],
                    "columns": [
                        {"field": "matched_tags_zh", "zh": "人员类别", "en": "Category"},
                        {"field": "name", "zh": "姓名", "en": "Name"},
                    ],
                }
            ]
        }
    )
    found = rows("key_persons", grid["envelopes"], definitions=definitions)
    assert [(r["matched_tags_zh"], r["name"]) for r in found] == [("独居老人", "赵本地"), ("社区矫正", "陈矫正")]


# --- 出租房屋台账 ---------------------------------------------------------------------------------------------


def test_rented_housing_lists_tagged_and_floating_only_households_with_their_tenants(grid: dict[str, Any]) -> None:
    ledger = build_ledger("rented_housing", grid["envelopes"], today=TODAY)
    found = {r["room"]: r for r in ledger.as_dicts()}
    ids = grid["ids"]
    # 104 holds registered and floating people untagged: not rented; 101 neither
    assert sorted(found) == ["102", "103", "105", "106"]
    tagged = found["102"]
    assert (tagged["rental_zh"], tagged["head"], tagged["household_phone"]) == ("出租", "王房东", "0591-********")
    # nobody floating in a tagged house: everyone living there is listed
    assert tagged["tenant_count"] == 1 and tagged["tenants"] == f"王租客 {ids[5][:6]}{'*' * 10}{ids[5][-2:]}"
    assert found["103"]["rental_zh"] == "住户均为流动人口" and found["103"]["tenant_count"] == 2
    assert found["103"]["tenants"].split("\n") == [f"李乙 {mask(ids[7])}", f"李甲 {mask(ids[6])}"]
    assert found["105"]["rental_zh"] == "群租、出租" and found["105"]["tenant_count"] == 0  # tagged, nobody recorded
    # the owner is away: the floating tenant is the household, the owner not a tenant
    assert found["106"]["rental_zh"] == "住户均为流动人口" and found["106"]["tenants"] == f"吴租客 {mask(ids[10])}"
    for blank in ("fire_check_date", "fire_check_result", "fire_checker"):  # filled in by hand on the paper
        assert all(r[blank] == "" for r in found.values())
    assert ledger.headers[-3:] == ["消防检查日期", "检查情况", "检查人"]
    unmasked = {r["room"]: r for r in rows("rented_housing", grid["envelopes"], masked=False)}
    assert unmasked["103"]["tenants"] == f"李乙 {ids[7]}\n李甲 {ids[6]}"


def mask(number: str) -> str:
    return number[:6] + "*" * 10 + number[-2:]


# --- 网格人员及任务台账 -----------------------------------------------------------------------------------------


def test_grid_staff_shows_roles_wartime_groups_and_their_task_counts(grid: dict[str, Any]) -> None:
    found = rows("grid_staff", grid["envelopes"])
    assert [r["name"] for r in found] == ["林长", "黄巡", "许服务", "志愿者小杨"]  # members in order, then others
    leader, patrol, service, volunteer = found
    assert (leader["leader_zh"], leader["role_zh"], leader["group_zh"]) == ("是", "信息员", "综合协调组")
    assert (patrol["leader_zh"], patrol["role_zh"], patrol["group_zh"]) == ("", "巡查员", "安全巡查组")
    assert (service["role_zh"], service["group_zh"]) == ("服务员", "核酸采样组")  # the recorded group wins
    assert patrol["phone"] == "*******2222"
    # 黄巡: open (overdue), in progress, done; the cancelled one is not counted
    counts = ("tasks_total", "tasks_done", "tasks_open", "tasks_overdue")
    assert [patrol[k] for k in counts] == [3, 1, 2, 1]
    assert [leader[k] for k in counts] == [0, 0, 0, 0]
    assert (volunteer["member_note"], volunteer["role_zh"], volunteer["tasks_total"]) == ("不在网格成员名单", "", 1)
    assert full_phones(grid) == {"13800001111", "13800002222", "13800003333"}


def full_phones(grid: dict[str, Any]) -> set[str]:
    return {str(r["phone"]) for r in rows("grid_staff", grid["envelopes"], masked=False) if r["phone"]}


def test_grid_tasks_lists_open_tasks_first_by_due_date(grid: dict[str, Any]) -> None:
    found = rows("grid_tasks", grid["envelopes"])
    assert [(r["title"], r["status_zh"]) for r in found] == [
        ("夜间巡查", "待办"),
        ("张贴告知书", "待办"),  # no due date: after the open ones that have one, by title
        ("无人负责", "待办"),
        ("巡查楼道", "进行中"),
        ("消杀", "已完成"),
        ("取消的巡查", "已取消"),
    ]
    by_title = {r["title"]: r for r in found}
    assert by_title["夜间巡查"]["due"] == TODAY - dt.timedelta(days=1)
    assert (by_title["夜间巡查"]["task_kind_zh"], by_title["夜间巡查"]["role_zh"]) == ("巡查", "巡查员")
    notice = by_title["张贴告知书"]
    assert (notice["group_zh"], notice["assignee"], notice["coverage_zh"]) == (
        "宣传引导组",
        "志愿者小杨",
        "2号楼、10号楼",
    )


def test_demo_staff_count_every_task_once(demo: list[dict[str, Any]]) -> None:
    tasks = [view(e) for e in demo if e["kind"] == "task" and not is_deleted(e)]
    staff = rows("grid_staff", demo)
    assert len(staff) == sum(len(view(e).get("members") or []) for e in demo if e["kind"] == "grid")
    assert sum(r["tasks_total"] for r in staff) == sum(t["status"] != "cancelled" for t in tasks)
    assert sum(r["tasks_done"] for r in staff) == sum(t["status"] == "done" for t in tasks)
    assert len(rows("grid_tasks", demo)) == len(tasks)


# --- 物资台账 ---------------------------------------------------------------------------------------------


def test_supplies_lists_each_result_of_a_supplies_campaign(grid: dict[str, Any]) -> None:
    ledger = build_ledger("supplies", grid["envelopes"], today=TODAY)
    assert ledger.headers[:4] == ["网格", "发放活动", "物资名称", "数量"]
    found = ledger.as_dicts()
    # the vaccination campaign's result and the deleted one are not supplies handed out
    assert [(r["room"], r["item"], r["status_zh"]) for r in found] == [
        ("101", "大米", "已领取"),
        ("103", "食用油", "拒领"),
    ]
    rice, oil = found
    assert (rice["campaign_name"], rice["quantity"], rice["received_by"], rice["given_by"]) == (
        "冬季慰问物资发放",
        2,
        "陈矫正",
        "许服务",
    )
    assert rice["given_at"] == dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert rice["head"] == "陈矫正"
    # a result whose target is a resident finds the household through them; a phone in the reason is masked
    assert (oil["head"], oil["received_by"], oil["reason"]) == ("李甲", "", "已搬走，电话*******5678")


def test_supplies_without_any_campaign_is_an_empty_ledger_that_still_writes(
    town: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = build_ledger("supplies", town, today=TODAY)
    assert ledger.rows == []
    for suffix in (".xlsx", ".csv"):
        write_ledger(ledger, tmp_path / f"supplies{suffix}")
    lines = list(csv.reader((tmp_path / "supplies.csv").read_text("utf-8-sig").splitlines()))
    assert lines[0][0].startswith("物资台账") and lines[1] == ledger.headers and len(lines) == 2


# --- exported from a tablet -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, demo_records: list[Any]) -> Path:
    return make_store(tmp_path_factory.mktemp("more") / "store", demo_records, role="worker")


@pytest.mark.parametrize("name", NEW)
def test_field_agent_exports_each_new_ledger_as_csv_and_xlsx(
    name: str, store: Path, tmp_path: Path, demo: list[dict[str, Any]]
) -> None:
    first_grid = demo[0]["grid"]
    expected = build_ledger(name, [e for e in demo if e["grid"] == first_grid], today=TODAY)
    if name in ("key_persons", "rented_housing", "grid_staff", "grid_tasks"):
        assert expected.rows, f"the demo gives {name} no rows"
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"{name}{suffix}"
        result = CliRunner().invoke(
            cli,
            ["--store", str(store), "export", name, "--out", str(out), "--json"],
            env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE},
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert (report["ledger"], report["rows"], report["masked"]) == (name, len(expected.rows), True)
        if suffix == ".csv":
            lines = list(csv.reader(out.read_text("utf-8-sig").splitlines(keepends=True)))
            assert lines[1] == expected.headers
            assert [[unprotect(c) for c in line] for line in lines[2:]] == expected.text_rows()
        else:
            sheet = openpyxl.load_workbook(out).active
            assert [c.value for c in sheet[2]] == ["序号", *expected.headers]
            numbered = [r for r in sheet.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
            assert len(numbered) == len(expected.rows)


def test_a_roster_marking_key_persons_fills_the_key_person_ledger(tmp_path: Path, demo_records: list[Any]) -> None:
    """An office's roster with a 标签 column (社区矫正对象, 刑释人员: words of the table) imports as tags, and the
    exported 重点人员台账 lists those residents under the ledger's categories."""
    store = make_store(tmp_path / "store", [r for r in demo_records if r.kind == "grid"][:1], role="worker")
    roster = tmp_path / "roster.csv"
    lines = [
        "姓名,公民身份号码,楼栋,单元,房号,标签",
        f"陈矫正,{person(41, 1)},3,1,101,社区矫正对象",
        f"刘释放,{person(52, 2, 'female')},3,1,102,刑释人员、独居老人",
        f"王普通,{person(30, 3)},3,1,103,",
    ]
    roster.write_text("\n".join(lines), "utf-8-sig")
    env = {"FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    imported = CliRunner().invoke(cli, ["--store", str(store), "import", str(roster)], env=env)
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "key.csv"
    exported = CliRunner().invoke(cli, ["--store", str(store), "export", "key_persons", "--out", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    table = list(csv.DictReader(out.read_text("utf-8-sig").splitlines()[1:]))
    assert [(r["人员类别"], r["姓名"]) for r in table] == [("社区矫正", "陈矫正"), ("刑满释放", "刘释放")]
