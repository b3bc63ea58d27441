"""Two ``field-server serve`` processes (as on two hosts behind a load balancer) sharing one PostgreSQL database.

Tablets push and pull through either instance, edit the same records at once and send the same batch to both
instances at once; every tablet and the server must end up agreeing, each batch applied once, no write lost, and an
enrolment code enrol one tablet whichever instance it reaches.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from field_agent.domain.hlc import HybridClock, wall_ms
from field_agent.domain.ids import new_id, new_node_id
from server_stub.db import open_database
from server_stub.db.base import Database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

from .harness import Tablet, household
from .test_e2e_uvicorn import free_port
from .test_erasure import resident_values

pytestmark = pytest.mark.postgres

SERVER = [sys.executable, "-c", "from server_stub.cli import main; main()"]
_batches = itertools.count(1)


class Instance:
    """One ``field-server serve --workers 1`` process on its own port."""

    def __init__(self, db_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [*SERVER, "serve", "--db", db_url, "--port", str(self.port), "--workers", "1", "--json"]
        argv += ["--enroll-limit", "10000"]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, "PYTHONUNBUFFERED": "1"}
        )

    async def up(self) -> None:
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)  # printed once the database is open
        assert line, self.process.stderr.read() if self.process.stderr else ""
        async with httpx.AsyncClient() as client:
            while True:  # until uvicorn answers (it binds after the line above)
                assert self.process.poll() is None, "the server exited"
                try:
                    if (await client.get(f"{self.url}/v1/health", timeout=2)).status_code == 200:
                        return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class City:
    """Two instances over one database, the office's own connection to it, and tablets enrolled through both."""

    def __init__(self, db: Database, instances: list[Instance]) -> None:
        self.db = db
        self.instances = instances
        self.clients: list[httpx.AsyncClient] = []

    def client(self, instance: int, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(base_url=self.instances[instance].url, headers=headers, timeout=60)
        self.clients.append(client)
        return client

    def code(self, grid: str, worker: str = "王芳", role: str = "worker") -> str:
        return str(issue_code(self.db, grid, worker, role, 3_600_000)["code"])

    async def tablet(self, grid: str, instance: int, role: str = "worker", worker: str = "王芳") -> MovingTablet:
        node = new_node_id()
        body = {"code": self.code(grid, worker, role), "node_id": node, "device_name": "tablet"}
        response = await self.client(instance).post("/v1/enroll", json=body)
        assert response.status_code == 200, response.text
        enrolment = response.json()
        clients = [self.client(n, enrolment["token"]) for n in range(len(self.instances))]
        return MovingTablet(clients, enrolment, node, HybridClock(node))


class MovingTablet(Tablet):
    """A tablet whose requests the load balancer sends to whichever instance ``via`` names."""

    def __init__(self, clients: list[httpx.AsyncClient], enrolment: dict[str, Any], node: str, clock: Any) -> None:
        super().__init__(clients[0], enrolment, node, clock)
        self.clients = clients

    def via(self, instance: int) -> MovingTablet:
        self.client = self.clients[instance % len(self.clients)]
        return self


@pytest.fixture
async def city(pg_url: str) -> AsyncIterator[City]:
    db = open_database(pg_url)  # makes the schema, and the key (in the data directory) both instances use
    env = dict(os.environ)
    instances = [Instance(pg_url, env), Instance(pg_url, env)]
    town = City(db, instances)
    try:
        await asyncio.gather(*(instance.up() for instance in instances))
        yield town
    finally:
        for client in town.clients:
            await client.aclose()
        for instance in instances:
            instance.stop()
        db.close()


def winners(pushed: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, Any]]:
    """For each (record, field) the write with the greatest stamp among the applied changes."""
    best: dict[tuple[str, str], tuple[str, Any]] = {}
    for change in pushed:
        for name, write in change["fields"].items():
            key = (change["record"], name)
            if key not in best or write["stamp"] > best[key][0]:
                best[key] = (write["stamp"], write["value"])
    return best


async def test_tablets_moving_between_two_instances_converge_with_every_batch_applied_once(city: City) -> None:
    grid = create_grid(city.db, town="玉屏街道", name="东门一网格", community="东门社区")
    tablets = [await city.tablet(grid, n % 2, role="leader" if n == 0 else "worker") for n in range(4)]
    shared = [new_id() for _ in range(4)]
    first = [tablets[0].edit(record_id, values=household(f"{n}栋1单元101")) for n, record_id in enumerate(shared)]
    pushed = list(first)
    assert {r["status"] for r in await tablets[0].via(0).push_ok(first)} == {"applied"}

    for round_no in range(6):
        await asyncio.gather(*(tablet.via(n + round_no).pull_all() for n, tablet in enumerate(tablets)))
        batches = []
        for n, tablet in enumerate(tablets):  # every tablet edits every shared record: same fields, at once
            changes = [tablet.edit(record_id, values={"notes": f"t{n} r{round_no}"}) for record_id in shared]
            changes.append(tablet.edit(values=household(f"t{n} r{round_no}")))
            batches.append((tablet, changes, f"city-{next(_batches):06d}-{tablet.node}"))
        # each batch goes to both instances at once (a retry after a cut reaching the other host)
        sent = [tablet.via(n + round_no).push(changes, batch) for n, (tablet, changes, batch) in enumerate(batches)]
        sent += [
            tablet.via(n + round_no + 1).push(changes, batch) for n, (tablet, changes, batch) in enumerate(batches)
        ]
        answers = await asyncio.gather(*sent)
        assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
        half = len(batches)
        for n, (_, changes, batch) in enumerate(batches):
            pair = [answers[n].json(), answers[n + half].json()]
            assert sorted(answer["replayed"] for answer in pair) == [False, True], batch  # applied exactly once
            assert pair[0]["results"] == pair[1]["results"]
            assert {result["status"] for result in pair[0]["results"]} <= {"applied", "conflict"}
            pushed.extend(changes)

    for n, tablet in enumerate(tablets):  # a last pull each, through either instance
        await tablet.via(n).pull_all()
    server = {envelope["id"]: envelope for envelope in city.db.iter_records(grid)}
    for tablet in tablets:
        assert tablet.replica == server  # converged: every tablet holds exactly the server's records
    for (record_id, name), (stamp, value) in winners(pushed).items():  # no write lost
        assert server[record_id]["stamps"][name] == stamp
        assert server[record_id]["fields"][name] == value
    assert len(server) == 1 + len(shared) + 6 * len(tablets)
    with psycopg.connect(city.db._conninfo) as connection:  # type: ignore[attr-defined]
        connection.execute(f'SET search_path TO "{city.db.schema}"')  # type: ignore[attr-defined]
        stored = connection.execute("SELECT count(*), count(DISTINCT (device_id, batch_id)) FROM batches").fetchone()
        last = connection.execute("SELECT seq FROM grid_seq WHERE grid = %s", (grid,)).fetchone()
    assert stored == (1 + 6 * len(tablets), 1 + 6 * len(tablets))
    # every applied batch numbered its records once: the grid record, the first batch, then 6 rounds of 4 batches
    assert last is not None and last[0] == 1 + len(shared) + 6 * len(tablets) * (len(shared) + 1)


async def test_an_enrolment_code_sent_to_both_instances_at_once_enrols_one_tablet(city: City) -> None:
    grid = create_grid(city.db, town="玉屏街道", name="东门一网格")
    codes = [city.code(grid, worker=f"工作人员{n}") for n in range(8)]
    clients = [city.client(0), city.client(1)]
    attempts = [
        clients[side].post("/v1/enroll", json={"code": code, "node_id": new_node_id(), "device_name": "tablet"})
        for code in codes
        for side in (0, 1)
    ]
    answers = await asyncio.gather(*attempts)
    for n in range(len(codes)):
        pair = sorted(answers[2 * n + side].status_code for side in (0, 1))
        assert pair == [200, 410], [answers[2 * n + side].text for side in (0, 1)]
    assert len([d for d in city.db.list_devices() if d["grid"] == grid]) == len(codes)


def _lock_waiters(conninfo: str, schema: str) -> int:
    """How many sessions wait for a row lock held on ``schema``'s grid_seq (pushes queued behind the test)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            ("%grid_seq%",),
        ).fetchone()
    return int(row[0]) if row else 0


async def until(condition: Any) -> None:
    while not await asyncio.to_thread(condition):
        await asyncio.sleep(0.02)


async def test_a_household_deleted_through_one_instance_keeps_a_resident_added_through_the_other(city: City) -> None:
    """Instance 1 plans a household deletion while instance 0 commits a resident to that household: the deletion
    must see the resident once it holds the grid's lock, and be refused."""
    grid = create_grid(city.db, town="玉屏街道", name="东门一网格", community="东门社区")
    leader = await city.tablet(grid, 0, role="leader", worker="李娜")
    worker = await city.tablet(grid, 1, worker="王芳")
    home = new_id()
    await leader.via(0).push_ok([leader.edit(home, values=household())])
    await worker.via(1).pull_all()
    conninfo, schema = city.db._conninfo, city.db.schema  # type: ignore[attr-defined]
    with psycopg.connect(conninfo) as holder:  # the office holds the grid's lock: both pushes queue behind it
        holder.execute(f'SET search_path TO "{schema}"')
        holder.execute("SELECT seq FROM grid_seq WHERE grid = %s FOR UPDATE", (grid,))
        added = asyncio.ensure_future(worker.via(0).push([worker.edit(kind="resident", values=resident_values(home))]))
        await until(lambda: _lock_waiters(conninfo, schema) == 1)
        deleted = asyncio.ensure_future(leader.via(1).push([leader.edit(home, values={"_deleted": True})]))
        await until(lambda: _lock_waiters(conninfo, schema) == 2)
        holder.rollback()
    assert (await added).json()["results"][0]["status"] == "applied"
    result = (await deleted).json()["results"][0]
    assert (result["status"], result["code"]) == ("refused", "household_has_residents")
    assert not city.db.get_record(home)["fields"].get("_deleted")  # type: ignore[index]


async def test_office_writes_from_two_hosts_stamp_in_turn(city: City) -> None:
    """An admin command on another host waits for the office clock another host's write holds, then stamps after
    it: the server's clock never goes back whichever host writes."""
    grid = create_grid(city.db, town="玉屏街道", name="东门一网格")
    conninfo, schema = city.db._conninfo, city.db.schema  # type: ignore[attr-defined]
    ahead = HybridClock(new_node_id(), now_ms=lambda: wall_ms() + 3_600_000).now()  # a host whose write is open
    env = {**os.environ}
    with psycopg.connect(conninfo) as holder:
        holder.execute(f'SET search_path TO "{schema}"')
        holder.execute("SELECT value FROM meta WHERE key = 'server_clock' FOR UPDATE")
        holder.execute("UPDATE meta SET value = %s WHERE key = 'server_clock'", (ahead,))
        command = [*SERVER, "grid", "create", "--db", city.db.url, "--town", "玉屏街道", "--name", "西门网格", "--json"]
        other = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        await until(lambda: other.poll() is not None or _meta_waiters(conninfo) == 1)
        holder.commit()
    out, err = other.communicate(timeout=60)
    assert other.returncode == 0, err
    created = city.db.get_record(json.loads(out)["grid"])
    assert created is not None and min(created["stamps"].values()) > ahead
    assert grid != created["id"]


def _meta_waiters(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s", ("%meta%",)
        ).fetchone()
    return int(row[0]) if row else 0
