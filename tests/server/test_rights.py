"""Who may write what (field_agent/domain/rights.py, docs/SERVER.md): checked per kind and per field on every push."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any, get_args

from field_agent.domain.rights import ANYONE, LEADER, NOBODY, RIGHTS, TEMPORARY_ROLES
from field_agent.domain.schema import SCHEMAS
from field_agent.protocol.wire import RecordKind
from server_stub.enrolment import issue_code

from .harness import Harness, Tablet, household

TASK = {"title": "发放宣传单", "task_kind": "publicity", "role": "publicity", "status": "open", "assignee": "王芳"}


async def _refused(tablet: Tablet, change: dict[str, Any], code: str = "leader_only") -> dict[str, Any]:
    result = (await tablet.push_ok([change]))[0]
    assert result["status"] == "refused" and result["code"] == code, result
    return result


async def test_a_workers_tablet_cannot_delete_or_rename_its_grid(server: Harness) -> None:
    grid = server.grid("东门一网格")
    worker = await server.tablet(grid, role="worker")
    await worker.pull_all()
    before = server.db.get_record(grid)
    for values in (
        {"_deleted": True},
        {"name": "改名网格"},
        {"town": "别的街道"},
        {"community": "别的社区"},
        {"party_org": "东门社区第一党支部"},
    ):
        worker.replica[grid] = before  # each attempt starts from the server's grid, as a fresh tablet would
        result = await _refused(worker, worker.edit(grid, kind="grid", values=values))
        assert "grid" in result["reason"]
    assert server.db.get_record(grid)["fields"] == before["fields"]
    assert [(g["id"], g["deleted"], g["name"]) for g in server.db.list_grids()] == [(grid, False, "东门一网格")]
    assert issue_code(server.db, grid, "李娜", "worker", 3_600_000)["grid"] == grid
    tablet = await server.tablet(grid, worker="李娜")
    assert [r["id"] for r in await tablet.pull_all() if r["kind"] == "grid"] == [grid]


async def test_the_leader_renames_and_deletes_the_grid(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    await leader.pull_all()
    result = (await leader.push_ok([leader.edit(grid, kind="grid", values={"name": "东门二网格"})]))[0]
    assert result["status"] == "applied"
    result = (await leader.push_ok([leader.edit(grid, kind="grid", values={"_deleted": True})]))[0]
    assert result["status"] == "applied"
    assert server.db.get_record(grid)["fields"]["_deleted"] is True


async def test_no_tablet_creates_a_grid_record(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader")
    with sqlite3.connect(server.db.url.removeprefix("sqlite:///")) as connection:  # the grid record is gone
        connection.execute("DELETE FROM records WHERE id = ?", (grid,))
    values = {"town": "玉屏街道", "community": "东门社区", "name": "自建网格", "mode": "normal"}
    await _refused(leader, leader.edit(grid, kind="grid", values=values), code="office_only")
    assert server.db.get_record(grid) is None


async def test_resolving_a_grid_conflict_is_the_leaders(server: Harness) -> None:
    grid = server.grid()
    first = await server.tablet(grid, role="leader", worker="陈组长")
    second = await server.tablet(grid, role="leader", worker="陈组长")
    worker = await server.tablet(grid, role="worker")
    for tablet in (first, second):
        await tablet.pull_all()
    await first.push_ok([first.edit(grid, kind="grid", values={"name": "甲名"})])
    result = (await second.push_ok([second.edit(grid, kind="grid", values={"name": "乙名"})]))[0]
    assert result["status"] == "conflict"
    [conflict] = result["conflicts"]
    await worker.pull_all()
    await _refused(worker, worker.edit(grid, kind="grid", resolve=(conflict,)))
    assert not server.db.get_record(grid)["conflicts"][conflict].get("resolved")
    await second.pull_all()
    result = (await second.push_ok([second.edit(grid, kind="grid", resolve=(conflict,))]))[0]
    assert result["status"] == "applied"
    assert server.db.get_record(grid)["conflicts"][conflict]["resolved"]


async def test_a_worker_reports_on_tasks_and_the_leader_assigns_them(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    worker = await server.tablet(grid, role="worker")
    raised = worker.edit(kind="task", values=TASK)  # a worker may raise a task (the isolation check does)
    assert (await worker.push_ok([raised]))[0]["status"] == "applied"
    task = raised["record"]
    report = worker.edit(
        task, kind="task", values={"status": "done", "notes": "已发"}, sets={"coverage": {"3栋": True}}
    )
    assert (await worker.push_ok([report]))[0]["status"] == "applied"
    for values in ({"assignee": "李娜"}, {"title": "别的任务"}, {"due": "2026-12-01"}, {"_deleted": True}):
        before = dict(worker.replica[task])
        await _refused(worker, worker.edit(task, kind="task", values=values))
        worker.replica[task] = before
    await leader.pull_all()
    assert (await leader.push_ok([leader.edit(task, kind="task", values={"assignee": "李娜"})]))[0][
        "status"
    ] == "applied"
    stored = server.db.get_record(task)["fields"]
    assert stored["assignee"] == "李娜" and stored["status"] == "done" and stored["title"] == TASK["title"]


async def test_only_the_leader_removes_a_sampling_round(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    worker = await server.tablet(grid, role="worker")
    opened = worker.edit(
        kind="sampling_round", values={"name": "第1轮", "started_at": "2026-11-30T09:00:00+08:00", "status": "open"}
    )
    assert (await worker.push_ok([opened]))[0]["status"] == "applied"
    closed = worker.edit(opened["record"], kind="sampling_round", values={"status": "closed"})
    assert (await worker.push_ok([closed]))[0]["status"] == "applied"
    await _refused(worker, worker.edit(opened["record"], kind="sampling_round", values={"_deleted": True}))
    await leader.pull_all()
    removed = leader.edit(opened["record"], kind="sampling_round", values={"_deleted": True})
    assert (await leader.push_ok([removed]))[0]["status"] == "applied"


async def test_workers_keep_writing_and_deleting_households(server: Harness) -> None:
    worker = await server.tablet(server.grid())
    created = worker.edit(values=household(notes="独居"))
    assert (await worker.push_ok([created]))[0]["status"] == "applied"
    deleted = worker.edit(created["record"], values={"_deleted": True})
    assert (await worker.push_ok([deleted]))[0]["status"] == "applied"


async def test_config_records_are_refused_for_every_role(server: Harness) -> None:
    grid = server.grid()
    for role in ("worker", "leader"):
        tablet = await server.tablet(grid, role=role, worker=f"{role}人")
        change = tablet.edit(kind="config", values={"roles": [], "anything": "goes"})
        result = await _refused(tablet, change, code="kind_not_accepted")
        assert "config" in result["reason"]
        assert server.db.get_record(change["record"]) is None


async def test_a_change_with_no_fields_is_validated_like_any_other(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    empty = {"record": "0190000000007000800000000000aaaa", "kind": "household", "grid": tablet.grid}
    result = await _refused(tablet, empty, code="invalid_record")
    assert "address" in result["reason"]
    assert server.db.get_record(empty["record"]) is None


async def test_record_mismatch_says_nothing_of_the_other_record(server: Harness) -> None:
    grid_a, grid_b = server.grid("甲网格"), server.grid("乙网格")
    tablet_a, tablet_b = await server.tablet(grid_a), await server.tablet(grid_b)
    foreign_task = tablet_b.edit(kind="task", values=TASK)
    own_household = tablet_a.edit(values=household())
    await tablet_b.push_ok([foreign_task])
    await tablet_a.push_ok([own_household])

    attempts = [
        {**tablet_a.edit(values=household()), "record": foreign_task["record"]},  # another grid, another kind
        {**tablet_a.edit(kind="task", values=TASK), "record": foreign_task["record"]},  # another grid, same kind
        {**tablet_a.edit(kind="task", values=TASK), "record": own_household["record"]},  # own grid, another kind
    ]
    answers = [(await tablet_a.push_ok([change]))[0] for change in attempts]
    assert {(a["status"], a["code"], a["reason"]) for a in answers} == {
        ("refused", "record_mismatch", answers[0]["reason"])
    }
    for secret in ("task", "household", grid_b, foreign_task["record"]):
        assert secret not in answers[0]["reason"]


def _roles(text: str) -> frozenset[str]:
    word = text.split(":")[0].split("(")[0].strip()
    return {"all": ANYONE, "leader": LEADER, "nobody": NOBODY}[word]


def test_the_table_in_docs_is_the_table_the_server_enforces() -> None:
    text = (Path(__file__).parents[2] / "docs" / "SERVER.md").read_text(encoding="utf-8")
    section = text.split("### Who may write what", 1)[1].split("\n- ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| `")]
    documented = {cells[0].strip().strip("`"): [cell.strip() for cell in cells[1:]] for cells in rows}
    assert set(documented) == set(get_args(RecordKind))  # every kind the protocol carries
    for kind, (create, edit, delete) in documented.items():
        rights = RIGHTS.get(kind)
        if rights is None:
            assert _roles(create) == _roles(edit) == _roles(delete) == NOBODY, kind
            continue
        # this table is the staff's (leader, worker); temporary members have their own below
        assert (_roles(create), _roles(delete)) == (rights.create & ANYONE, rights.delete & ANYONE), kind
        for part in edit.split(";"):
            roles, fields = _roles(part), part.split(":", 1)[1]
            names = re.findall(r"`(\w+)`", fields) if "every field" not in fields else list(SCHEMAS[kind])
            assert names and all(rights.writers(name) & ANYONE == roles for name in names), (kind, part)
        assert set(SCHEMAS[kind]) <= set(re.findall(r"`(\w+)`", edit)) or "every field" in edit, kind


def test_the_temporary_members_table_in_docs_is_the_table_the_server_enforces() -> None:
    text = (Path(__file__).parents[2] / "docs" / "SERVER.md").read_text(encoding="utf-8")
    section = text.split("### What a temporary member may write", 1)[1].split("\n- ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| `")]
    documented = {cells[0].strip().strip("`"): [cell.strip() for cell in cells[1:]] for cells in rows}
    assert set(documented) == set(RIGHTS)
    for kind, cells in documented.items():
        rights = RIGHTS[kind]
        for role, cell in zip(TEMPORARY_ROLES, cells, strict=True):
            where = (kind, role, cell)
            assert role not in rights.delete, where  # a temporary member never deletes
            assert (role in rights.create) == cell.startswith("create"), where
            assert (role in rights.edit) == ("edit" in cell), where
            named = set(re.findall(r"`(\w+)`", cell))
            fields = set(SCHEMAS.get(kind, {})) | set(rights.fields)
            writable = {name for name in fields if role in rights.writers(name)}
            if "edit" in cell:
                assert fields - writable == named, where  # "edit (not ...)": every field but those
            else:
                assert writable == named, where  # "report (...)": only those; "—": nothing


async def test_a_workers_tablet_records_only_its_own_work(server: Harness) -> None:
    """A visit, sampling or follow-up names who did it: a worker's tablet may name only its own worker (the
    leader's may name a colleague without a tablet); the reason names the field, never a name."""
    grid = server.grid()
    worker = await server.tablet(grid, role="worker", worker="王芳")
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    home = worker.edit(values=household())
    resident = worker.edit(
        kind="resident",
        values={
            "household": home["record"],
            "name": "林秀英",
            "id_number": "350181193803150043",
            "residency": "resident",
        },
    )
    assert [r["status"] for r in await worker.push_ok([home, resident])] == ["applied", "applied"]
    visit = {"household": home["record"], "visited_at": "2026-12-06T09:00:00+08:00", "outcome": "met"}
    followup = {"resident": resident["record"], "date": "2026-12-06", "contact_made": True}
    for kind, values, field in (("visit", visit, "worker"), ("followup", followup, "by")):
        result = await _refused(worker, worker.edit(kind=kind, values={**values, field: "李娜"}), code="not_own_work")
        assert f"{kind}.{field}" in result["reason"] and "李娜" not in result["reason"]
        own = (await worker.push_ok([worker.edit(kind=kind, values={**values, field: "王芳"})]))[0]
        assert own["status"] == "applied", own
        await leader.pull_all()
        other = (await leader.push_ok([leader.edit(kind=kind, values={**values, field: "李娜"})]))[0]
        assert other["status"] == "applied", other
    # an own visit later re-attributed to someone else by the worker's tablet is refused too
    mine = worker.edit(kind="visit", values={**visit, "worker": "王芳"})
    assert (await worker.push_ok([mine]))[0]["status"] == "applied"
    await _refused(worker, worker.edit(mine["record"], kind="visit", values={"worker": "李娜"}), code="not_own_work")
    # editing the visit's other fields is anyone's
    notes = (await worker.push_ok([worker.edit(mine["record"], kind="visit", values={"notes": "再访"})]))[0]
    assert notes["status"] == "applied"
