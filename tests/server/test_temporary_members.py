"""Temporary members (docs/SERVER.md "Temporary members"): cadres, volunteers and the mobile sampling team enrolled
until a last day, with their own rights, refused after that day, and a pull limited to what their work needs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_node_id
from field_agent.domain.membership import MAX_TEMPORARY_DAYS, has_ended
from server_stub.cli import cli
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid
from server_stub.town_time import town_today

from .harness import Harness, Tablet, household

RESIDENT = {"name": "林秀英", "id_number": "350181193803150043", "residency": "resident", "phone": "13812345678"}


def _later(days: int) -> str:
    return (town_today() + dt.timedelta(days=days)).isoformat()


async def _temporary(
    server: Harness, grid: str, role: str, name: str, until: str | None = None, group: str | None = None
) -> Tablet:
    """A temporary member's tablet, enrolled over HTTP with a code issued as ``enroll-code`` issues it."""
    code = issue_code(server.db, grid, name, role, 3_600_000, until=until or _later(30), group=group)["code"]
    node = new_node_id()
    response = await server.client().post("/v1/enroll", json={"code": code, "node_id": node, "device_name": "平板"})
    assert response.status_code == 200, response.text
    enrolment = response.json()
    return Tablet(server.client(enrolment["token"]), enrolment, node, HybridClock(node))


async def _status(tablet: Tablet, change: dict[str, Any]) -> tuple[str, str | None]:
    result = (await tablet.push_ok([change]))[0]
    return result["status"], result.get("code")


# --- the last day -------------------------------------------------------------------------------------------------


def test_a_membership_works_through_its_last_day_and_ends_the_day_after() -> None:
    last = "2026-12-31"
    assert not has_ended(last, dt.date(2026, 12, 31))
    assert has_ended(last, dt.date(2027, 1, 1))
    assert not has_ended(None, dt.date(2099, 1, 1))  # the grid's own staff never end
    assert has_ended("31/12/2026", dt.date(2026, 1, 1))  # an unreadable last day lets nobody in


def test_the_town_date_decides_not_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 23:30 UTC on the 31st it is already the 1st in Shanghai (UTC+8), and still the 31st in UTC-5."""
    from server_stub import town_time

    instant = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    for zone, ended in (("Asia/Shanghai", True), ("America/New_York", False)):
        monkeypatch.setenv(town_time.TZ_ENV, zone)
        assert has_ended("2026-12-31", instant.astimezone(town_time.town_zone()).date()) is ended


def test_enroll_code_for_a_volunteer_needs_a_last_day_within_90_days(run) -> None:
    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    base = ("enroll-code", "--grid", grid, "--name", "赵志愿", "--role", "volunteer")
    yesterday, too_far = _later(-1), _later(MAX_TEMPORARY_DAYS + 1)
    for extra, message in (
        ((), "needs --until DATE"),
        (("--until", "next week"), "--until 'next week' is not a date like 2026-12-31"),
        (("--until", yesterday), f"--until {yesterday} is in the past"),
        (("--until", too_far), f"--until {too_far} is more than {MAX_TEMPORARY_DAYS} days away"),
    ):
        failed = run(*base, *extra, ok=False)
        assert message in failed.stderr and failed.stderr.count("\n") == 1, failed.stderr
    staff = run("enroll-code", "--grid", grid, "--worker", "王芳", "--role", "worker", "--until", _later(3), ok=False)
    assert "--until is for temporary members" in staff.stderr
    grouped = run(
        "enroll-code", "--grid", grid, "--worker", "王芳", "--role", "worker", "--group", "sampling", ok=False
    )
    assert "--group places a temporary member" in grouped.stderr
    assert json.loads(run("grid", "list", "--json").stdout)["grids"][0]["id"] == grid

    # today and the 90th day are both fine; the member lands on the grid record with their kind, day and group
    assert json.loads(run(*base, "--until", _later(0), "--json").stdout)["until"] == _later(0)
    issued = json.loads(run(*base, "--until", _later(MAX_TEMPORARY_DAYS), "--group", "sampling", "--json").stdout)
    assert (issued["role"], issued["until"], issued["worker"]) == ("volunteer", _later(MAX_TEMPORARY_DAYS), "赵志愿")
    bad_group = run(
        "enroll-code", "--grid", grid, "--name", "钱", "--role", "cadre", "--until", _later(5), "--group", "x", ok=False
    )
    assert "unknown group" in bad_group.stderr


def test_a_temporary_member_is_placed_on_the_grid_and_listed_with_their_last_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(cli, ["--data-dir", str(tmp_path), *args, "--db", url], catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output + result.stderr
        return result

    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格", "--leader", "陈组长").stdout.strip()
    run(
        "enroll-code",
        "--grid",
        grid,
        "--name",
        "赵志愿",
        "--role",
        "volunteer",
        "--until",
        _later(10),
        "--group",
        "sampling",
    )
    taken = run("enroll-code", "--grid", grid, "--name", "赵志愿", "--role", "cadre", "--until", _later(20))
    assert taken.exit_code == 0  # the same temporary member again: their kind and day are updated
    with open_database(url) as db:
        members = db.get_record(grid)["fields"]["members"]
        assert members == [  # the leader joins the list it starts (a grid's leader is one of its members)
            {"name": "陈组长"},
            {"name": "赵志愿", "temporary": "cadre", "until": _later(20), "group": "sampling"},
        ]
        from server_stub.records import Edit, write_records

        write_records(db, grid, [Edit("grid", grid, {"members": [*members, {"name": "王芳", "role": "service"}]})])
    clash = run("enroll-code", "--grid", grid, "--name", "王芳", "--role", "volunteer", "--until", _later(3), ok=False)
    assert "a permanent member of this grid has this name" in clash.stderr and "王芳" not in clash.stderr

    # enrol a device with a code, then list it, extend it
    code = json.loads(
        run(
            "enroll-code", "--grid", grid, "--name", "孙采样", "--role", "sampling_team", "--until", _later(2), "--json"
        ).stdout
    )["code"]
    from field_agent.protocol.wire import EnrollRequest
    from server_stub.enrolment import enroll

    with open_database(url) as db:
        device = enroll(db, EnrollRequest(code=code, node_id=new_node_id())).device_id
    listed = run("device", "list").stdout
    assert "孙采样 (sampling_team)" in listed and f"active until {_later(2)}" in listed
    assert json.loads(run("device", "list", "--json").stdout)["devices"][0]["ends_on"] == _later(2)
    far = run("device", "extend", device, "--until", _later(MAX_TEMPORARY_DAYS + 5), ok=False)
    assert "more than 90 days away" in far.stderr
    assert json.loads(run("device", "extend", device, "--until", _later(40), "--json").stdout)["until"] == _later(40)
    assert f"active until {_later(40)}" in run("device", "list").stdout
    with open_database(url) as db:
        placed = {m["name"]: m for m in db.get_record(grid)["fields"]["members"]}
        assert placed["孙采样"]["until"] == _later(40)  # the grid record follows the extension
        with db.transaction() as tx:
            tx.set_device_ends(device, _later(-1))
    assert f"ended {_later(-1)}" in run("device", "list").stdout
    staff_code = run("enroll-code", "--grid", grid, "--worker", "李娜", "--role", "worker").stdout.strip()
    with open_database(url) as db:
        staff = enroll(db, EnrollRequest(code=staff_code, node_id=new_node_id())).device_id
    refused = run("device", "extend", staff, "--until", _later(3), ok=False)
    assert "not a temporary member's" in refused.stderr


# --- expiry over HTTP ---------------------------------------------------------------------------------------------


async def test_after_the_last_day_every_request_is_refused_and_the_records_stay(server: Harness) -> None:
    grid = server.grid()
    last = town_today() + dt.timedelta(days=3)
    volunteer = await _temporary(server, grid, "volunteer", "赵志愿", until=last.isoformat())
    assert volunteer.enrolment["role"] == "volunteer" and volunteer.enrolment["until"] == last.isoformat()
    me = (await volunteer.client.get("/v1/me")).json()
    assert me["until"] == last.isoformat()
    staff = await server.tablet(grid, role="worker", worker="王芳")
    assert "until" not in staff.enrolment  # the staff's answers are as before temporary members
    assert "until" not in (await staff.client.get("/v1/me")).json()

    await staff.pull_all()
    home = staff.edit(values=household())
    await staff.push_ok([home])
    await volunteer.pull_all()
    visit = volunteer.edit(
        kind="visit",
        values={
            "household": home["record"],
            "visited_at": "2026-12-06T09:00:00+08:00",
            "outcome": "met",
            "worker": "赵志愿",
        },
    )
    server.app.state.today = lambda: last  # the last day: still working
    assert (await volunteer.push_ok([visit]))[0]["status"] == "applied"

    server.app.state.today = lambda: last + dt.timedelta(days=1)
    for response in (
        await volunteer.client.get("/v1/me"),
        await volunteer.client.get("/v1/pull"),
        await volunteer.push([volunteer.edit(visit["record"], kind="visit", values={"notes": "再访"})]),
        await volunteer.client.get(f"/v1/records/{home['record']}"),
    ):
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "device_expired"
        assert last.isoformat() in error["message"] and "临时成员期限" in error["message"]
    assert server.db.get_record(visit["record"])["fields"]["worker"] == "赵志愿"  # their records stay
    assert (await staff.client.get("/v1/me")).status_code == 200  # the staff are not touched

    # a code whose membership ended cannot enrol either
    code = issue_code(server.db, grid, "钱志愿", "volunteer", 3_600_000, until=last.isoformat())["code"]
    refused = await server.client().post("/v1/enroll", json={"code": code, "node_id": new_node_id()})
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "code_expired"

    from server_stub.temporary import extend_device

    extend_device(server.db, volunteer.enrolment["device_id"], (last + dt.timedelta(days=10)).isoformat(), today=last)
    assert (await volunteer.client.get("/v1/me")).status_code == 200  # extended: back at work


# --- rights -------------------------------------------------------------------------------------------------------


async def test_what_each_temporary_role_may_write(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    home = leader.edit(values=household(phone="13812345678"))
    person = leader.edit(kind="resident", values={**RESIDENT, "household": home["record"]})
    mine = leader.edit(
        kind="task",
        values={
            "title": "上门采样",
            "task_kind": "sampling",
            "role": "service",
            "status": "open",
            "assignee": "赵志愿",
        },
    )
    theirs = leader.edit(
        kind="task",
        values={"title": "消杀", "task_kind": "disinfection", "role": "safety", "status": "open", "assignee": "王芳"},
    )
    assert {r["status"] for r in await leader.push_ok([home, person, mine, theirs])} == {"applied"}
    volunteer = await _temporary(server, grid, "volunteer", "赵志愿")
    cadre = await _temporary(server, grid, "cadre", "钱干部")
    team = await _temporary(server, grid, "sampling_team", "孙采样")
    for tablet in (volunteer, cadre, team):
        await tablet.pull_all()
        # anyone may see the grid but none edits it, deletes a household, or writes an ID number or phone
        assert await _status(tablet, tablet.edit(grid, kind="grid", values={"name": "改名"})) == (
            "refused",
            "temporary_limited",
        )
        assert await _status(tablet, tablet.edit(home["record"], values={"_deleted": True})) == (
            "refused",
            "temporary_limited",
        )
        for values in ({"id_number": "350181195001010012"}, {"phone": "13900000000"}):
            change = tablet.edit(person["record"], kind="resident", values=values)
            assert await _status(tablet, change) == ("refused", "temporary_limited")
        tablet.replica[person["record"]] = server.db.get_record(person["record"])

    visit = {"household": home["record"], "visited_at": "2026-12-06T09:00:00+08:00", "outcome": "met"}
    # the volunteer records visits under their own name, never deletes them, and keeps off follow-ups
    result = (await volunteer.push_ok([volunteer.edit(kind="visit", values={**visit, "worker": "赵志愿"})]))[0]
    assert result["status"] == "applied"
    assert await _status(volunteer, volunteer.edit(result["record"], kind="visit", values={"_deleted": True})) == (
        "refused",
        "temporary_limited",
    )
    assert await _status(volunteer, volunteer.edit(kind="visit", values={**visit, "worker": "王芳"})) == (
        "refused",
        "not_own_work",
    )
    followup = {"resident": person["record"], "date": "2026-12-06", "contact_made": True}
    refused = (await volunteer.push_ok([volunteer.edit(kind="followup", values={**followup, "by": "赵志愿"})]))[0]
    assert refused["code"] == "temporary_limited" and "a volunteer's device" in refused["reason"]
    assert "林秀英" not in refused["reason"]
    # reports on their own task, not on someone else's; creates none
    assert await _status(volunteer, volunteer.edit(mine["record"], kind="task", values={"status": "done"})) == (
        "applied",
        None,
    )
    assert await _status(volunteer, volunteer.edit(mine["record"], kind="task", values={"title": "改"})) == (
        "refused",
        "temporary_limited",
    )
    await volunteer.pull_all()
    other = volunteer.edit(theirs["record"], kind="task", values={"status": "done"})  # (a task it never received)
    assert await _status(volunteer, other) == ("refused", "not_assigned")
    new_task = volunteer.edit(
        kind="task", values={"title": "新任务", "task_kind": "other", "role": "information", "status": "open"}
    )
    assert await _status(volunteer, new_task) == ("refused", "temporary_limited")

    # the sampling team records samplings and starts rounds, but no visit
    round_ = team.edit(
        kind="sampling_round", values={"name": "第一轮", "started_at": "2026-12-06T08:00:00+08:00", "status": "open"}
    )
    assert await _status(team, round_) == ("applied", None)
    sampling = {
        "round": round_["record"],
        "resident": person["record"],
        "household": home["record"],
        "status": "sampled",
        "sampled_at": "2026-12-06T09:30:00+08:00",
    }
    assert await _status(team, team.edit(kind="sampling", values={**sampling, "by": "孙采样"})) == ("applied", None)
    assert await _status(team, team.edit(kind="visit", values={**visit, "worker": "孙采样"})) == (
        "refused",
        "temporary_limited",
    )

    # a cadre is like a worker but never deletes: follow-ups, tasks and the residents' other fields
    assert await _status(cadre, cadre.edit(kind="followup", values={**followup, "by": "钱干部"})) == ("applied", None)
    assert await _status(cadre, cadre.edit(person["record"], kind="resident", values={"notes": "独居"})) == (
        "applied",
        None,
    )
    raised = cadre.edit(
        kind="task",
        values={"title": "发热", "task_kind": "other", "role": "information", "status": "open", "assignee": "陈组长"},
    )
    assert await _status(cadre, raised) == ("applied", None)
    assert await _status(cadre, cadre.edit(kind="resident", values={**RESIDENT, "household": home["record"]})) == (
        "refused",
        "temporary_limited",
    )
    # and the staff keep their rights
    await leader.pull_all()
    assert await _status(leader, leader.edit(result["record"], kind="visit", values={"_deleted": True})) == (
        "applied",
        None,
    )


# --- the pull -----------------------------------------------------------------------------------------------------


async def test_a_temporary_device_pulls_only_what_its_work_needs(any_server: Harness) -> None:
    server = any_server
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    changes = []
    homes = [leader.edit(values=household(f"{n}栋1单元101")) for n in range(1, 6)]
    changes += homes
    person = leader.edit(kind="resident", values={**RESIDENT, "household": homes[0]["record"]})
    changes.append(person)
    # interleave records the volunteer must not get between those it gets, so pages fill across them
    for n in range(6):
        changes.append(
            leader.edit(
                kind="followup",
                values={"resident": person["record"], "date": "2026-12-06", "contact_made": True, "by": "陈组长"},
            )
        )
        who = ("赵志愿", "孙采样", "王芳")[n % 3]
        changes.append(
            leader.edit(
                kind="task",
                values={
                    "title": f"任务{n}",
                    "task_kind": "other",
                    "role": "information",
                    "status": "open",
                    "assignee": who,
                },
            )
        )
    visit = leader.edit(
        kind="visit",
        values={
            "household": homes[0]["record"],
            "visited_at": "2026-12-06T09:00:00+08:00",
            "outcome": "met",
            "worker": "陈组长",
        },
    )
    changes.append(visit)
    results = await leader.push_ok(changes)
    assert {r["status"] for r in results} == {"applied"}

    volunteer = await _temporary(server, grid, "volunteer", "赵志愿")
    team = await _temporary(server, grid, "sampling_team", "孙采样")
    staff = await server.tablet(grid, role="worker", worker="王芳")
    everything = {r["id"] for r in await staff.pull_all(limit=3)}
    for tablet, kinds in (
        (volunteer, {"grid", "household", "resident", "task", "visit"}),
        (team, {"grid", "household", "resident", "task"}),
    ):
        pages: list[int] = []
        cursor = 0
        got: list[dict[str, Any]] = []
        while True:
            page = (await tablet.client.get("/v1/pull", params={"cursor": cursor, "limit": 2})).json()
            pages.append(len(page["records"]))
            got += page["records"]
            assert page["next_cursor"] >= cursor
            cursor = page["next_cursor"]
            if not page["more"]:
                break
        assert all(size == 2 for size in pages[:-1]) and pages[-1] <= 2, pages  # full pages until the last
        assert {r["kind"] for r in got} == kinds
        tasks = [r for r in got if r["kind"] == "task"]
        assert len(tasks) == 2 and {t["fields"]["assignee"] for t in tasks} == {tablet.enrolment["worker"]}
        assert len({r["id"] for r in got}) == len(got) and {r["id"] for r in got} <= everything
        # nothing new: an empty last page at the same cursor
        again = (await tablet.client.get("/v1/pull", params={"cursor": cursor})).json()
        assert (again["records"], again["next_cursor"], again["more"]) == ([], cursor, False)
    followup_id = next(c["record"] for c in changes if c["kind"] == "followup")
    assert (await volunteer.client.get(f"/v1/records/{followup_id}")).status_code == 404
    assert (await volunteer.client.get(f"/v1/records/{person['record']}")).status_code == 200
    assert (await staff.client.get(f"/v1/records/{followup_id}")).status_code == 200
    assert (await team.client.get(f"/v1/records/{visit['record']}")).status_code == 404


# --- a database made before temporary members ---------------------------------------------------------------------


def test_a_database_from_before_gets_the_new_columns_and_its_devices_keep_working(db_url: str) -> None:
    from field_agent.protocol.wire import EnrollRequest
    from server_stub.enrolment import authenticate, enroll

    with open_database(db_url) as db:
        grid = create_grid(db, town="玉屏街道", name="一网格")
        code = issue_code(db, grid, "王芳", "worker", 3_600_000)["code"]
        with db._writer() as connection:  # type: ignore[attr-defined]  # as today's code made it: no ends_on
            for table in ("devices", "enroll_codes"):
                connection.execute(f"ALTER TABLE {table} DROP COLUMN ends_on")
    with open_database(db_url) as db:
        answer = enroll(db, EnrollRequest(code=code, node_id=new_node_id()))
        (device,) = db.list_devices()
        assert device["ends_on"] is None and answer.until is None
        assert authenticate(db, f"Bearer {answer.token}")["id"] == answer.device_id
