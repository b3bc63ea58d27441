"""``field-server serve --workers N``: several processes over one database, one enrolment limit, clean stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

SERVER = [sys.executable, "-c", "from server_stub.cli import main; main()"]
# tests that start real multi-process servers: all on one xdist worker (--dist loadgroup), one at a time
in_processes = pytest.mark.xdist_group("server_workers")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (workers, and multiprocessing's resource tracker)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(child) for child in listed if alive(int(child))]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def written(pid: int) -> int:
    """Bytes the process passed to write(2) and the like: here, mostly its SQLite writes (WAL pages)."""
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(io["wchar"])


def workers_of(pid: int) -> list[int]:
    """The uvicorn worker processes among the children (not the resource tracker)."""
    return [child for child in children(pid) if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()]


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    banner: dict[str, Any]
    codes: list[str] = field(default_factory=list)
    grid: str = ""


def start(data_dir: Path, *extra: str, workers: int = 2, env: dict[str, str] | None = None) -> Served:
    port = free_port()
    serve = ["serve", "--workers", str(workers), "--port", str(port), "--json", *extra]
    process = subprocess.Popen(
        [*SERVER, "--data-dir", str(data_dir), *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert process.stdout is not None
    banner = json.loads(process.stdout.readline())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while len(workers_of(process.pid)) < workers or not _up(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"server did not come up: {process.communicate()[1]}")
        time.sleep(0.1)
    return Served(process, url, data_dir, banner)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


@pytest.fixture
def town(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    """A data dir with one grid and four enrolment codes, written before any server runs."""
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        grid = create_grid(db, town="玉屏街道", name="东门一网格", community="东门社区")
        codes = [str(issue_code(db, grid, f"worker{n}", "worker", 3_600_000)["code"]) for n in range(4)]
    yield tmp_path, grid, codes


@pytest.fixture
def served(town: tuple[Path, str, list[str]]) -> Iterator[Served]:
    data_dir, grid, codes = town
    server = start(data_dir)
    server.grid, server.codes = grid, codes
    yield server
    stop(server.process)
    assert not children(server.process.pid)


def enrol(url: str, code: str) -> tuple[str, str]:
    node = new_node_id()
    answer = httpx.post(f"{url}/v1/enroll", json={"code": code, "node_id": node, "device_name": "tablet"})
    assert answer.status_code == 200, answer.text
    return node, str(answer.json()["token"])


def day_of_work(node: str, grid: str, changes: int, batch: int) -> tuple[list[list[dict[str, Any]]], dict[str, str]]:
    """A tablet's batches (new households, then edits of them) and the last notes of every record."""
    clock = HybridClock(node)
    replica: dict[str, dict[str, Any]] = {}
    last: dict[str, str] = {}
    made = []
    for n in range(changes):
        record_id = sorted(replica)[n % len(replica)] if n % 3 == 2 else new_id()
        values = {"notes": f"第{n}次走访"} if record_id in replica else {"address": f"{n + 1}栋101", "notes": "新建"}
        envelope, change = local_edit(
            replica.get(record_id), clock, record_id=record_id, kind="household", grid=grid, values=values
        )
        replica[record_id] = envelope
        last[record_id] = values["notes"]
        made.append(change)
    return [made[i : i + batch] for i in range(0, len(made), batch)], last


@in_processes
def test_concurrent_pushes_through_two_workers_store_every_record_once(served: Served) -> None:
    tablets = [enrol(served.url, code) for code in served.codes]
    work = [day_of_work(node, served.grid, changes=240, batch=20) for node, _ in tablets]
    worker_pids = workers_of(served.process.pid)
    assert len(worker_pids) == 2
    before = {pid: written(pid) for pid in worker_pids}

    def push_all(index: int) -> list[int]:
        (node, token), (batches, _) = tablets[index], work[index]
        statuses = []
        for number, changes in enumerate(batches):
            # a new connection per batch, so the kernel hands connections to both workers
            body = orjson.dumps({"batch_id": f"{node}-{number:03d}", "changes": changes})
            with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as client:
                response = client.post("/v1/push", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 200, response.text
            assert all(result["status"] == "applied" for result in response.json()["results"]), response.text
            statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(len(tablets)) as pool:
        done = list(pool.map(push_all, range(len(tablets))))
    assert [len(statuses) for statuses in done] == [12] * len(tablets)
    # an idle worker writes a few bytes a second (answering the supervisor's health checks); one that stored
    # pushes writes WAL pages: tens of kB
    wrote = {pid: written(pid) - before[pid] for pid in worker_pids}
    assert all(size > 200_000 for size in wrote.values()), f"a worker stored no push: bytes written {wrote}"

    expected: dict[str, str] = {}
    for _, last in work:
        expected.update(last)
    with open_database(f"sqlite:///{served.data_dir / 'server.db'}") as db:
        stored = {record["id"]: record for record in db.iter_records(served.grid) if record["kind"] == "household"}
    assert {record_id: record["fields"]["notes"] for record_id, record in stored.items()} == expected

    _, token = tablets[0]
    pulled: list[str] = []
    cursor, more = 0, True
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as client:
        while more:
            page = client.get("/v1/pull", params={"cursor": cursor, "limit": 100}).json()
            pulled.extend(record["id"] for record in page["records"])
            cursor, more = page["next_cursor"], page["more"]
    assert len(pulled) == len(set(pulled)) == len(expected) + 1  # every household once, and the grid record
    assert set(pulled) == {*expected, served.grid}


@in_processes
def test_the_enrolment_limit_holds_across_workers(town: tuple[Path, str, list[str]]) -> None:
    data_dir, _, codes = town
    server = start(data_dir, "--enroll-limit", "3")
    try:
        assert server.banner["workers"] == 2
        barrier = threading.Barrier(6)

        def attempt(n: int) -> httpx.Response:
            barrier.wait()
            # a new connection each: they land on either worker
            return httpx.post(
                f"{server.url}/v1/enroll", json={"code": codes[0] if n == 0 else "WRONG-CODE", "node_id": new_node_id()}
            )

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(attempt, range(6)))
        limited = [answer for answer in answers if answer.status_code == 429]
        assert len(limited) == 3, [answer.status_code for answer in answers]
        assert {answer.status_code for answer in answers} - {429} <= {200, 401}
        for answer in limited:
            assert answer.json()["error"]["code"] == "rate_limited"
            assert 1 <= int(answer.headers["retry-after"]) <= 60
    finally:
        stop(server.process)


@in_processes
def test_sigterm_stops_every_worker_and_exits_0(served: Served) -> None:
    pids = children(served.process.pid)
    assert len(workers_of(served.process.pid)) == 2
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=15) == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)]


@in_processes
def test_workers_stop_when_the_supervisor_is_killed(served: Served) -> None:
    """SIGKILL (or a crash) of the parent must not leave orphaned workers holding the port and the database."""
    workers = workers_of(served.process.pid)
    assert len(workers) == 2
    served.process.kill()
    served.process.wait(timeout=15)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.url}/v1/health", timeout=2)


SLOW_START = """
import os, time
if os.environ.get("FIELD_SERVER_WORKER_CONFIG") and os.path.exists(os.path.join(os.path.dirname(__file__), "slow")):
    time.sleep(7)
"""


@in_processes
def test_sighup_replaces_the_workers_even_when_a_new_worker_starts_slowly(
    town: tuple[Path, str, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A spawned worker on a busy server may take longer than uvicorn's default 5 s to answer; the restart must
    wait for it instead of giving up and keeping the old workers (the supervisor would then log an error only)."""
    data_dir, _, codes = town
    hooks = tmp_path_factory.mktemp("hooks")
    (hooks / "sitecustomize.py").write_text(SLOW_START)  # every process imports it; workers wait 7 s once `slow` exists
    server = start(data_dir, env={"PYTHONPATH": str(hooks)})
    try:
        _, token = enrol(server.url, codes[0])
        old = set(workers_of(server.process.pid))
        (hooks / "slow").touch()
        server.process.send_signal(signal.SIGHUP)
        # two replacements one after the other, each answering before its old worker stops
        deadline = time.monotonic() + 180  # each may take up to the 60 s the supervisor allows a new worker
        while old & set(workers_of(server.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not old & set(workers_of(server.process.pid))
        assert len(workers_of(server.process.pid)) == 2
        assert server.process.poll() is None
        me = httpx.get(f"{server.url}/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    finally:
        stop(server.process)


@pytest.mark.parametrize("limit", [1, 3])
def test_note_enroll_attempt_is_a_sliding_window_per_address(db_url: str, limit: int) -> None:
    window = 60_000
    with open_database(db_url) as db:
        for n in range(limit):
            assert db.note_enroll_attempt("10.0.0.1", 1_000 + n * 1_000, window, limit) is None
        # the oldest attempt (t=1000) leaves the window at t=61000: 57 s to wait at t=4000 (rounded up)
        assert db.note_enroll_attempt("10.0.0.1", 4_000, window, limit) == 57
        assert db.note_enroll_attempt("10.0.0.1", 4_001, window, limit) == 57
        assert db.note_enroll_attempt("10.0.0.2", 4_001, window, limit) is None  # another address
        assert db.note_enroll_attempt("10.0.0.1", 60_999, window, limit) == 1
        assert db.note_enroll_attempt("10.0.0.1", 61_000, window, limit) is None
        # a clock set back never asks for more than one window
        assert db.note_enroll_attempt("10.0.0.1", -500_000, window, limit) == 60


def test_note_enroll_attempt_prunes_old_rows_of_every_address(db_url: str) -> None:
    with open_database(db_url) as db:
        for n in range(20):
            assert db.note_enroll_attempt(f"10.0.1.{n}", 1_000_000, 60_000, 5) is None
        assert db._query("SELECT count(*) FROM enroll_attempts")[0][0] == 20  # type: ignore[attr-defined]
        assert db.note_enroll_attempt("10.0.2.1", 1_060_000, 60_000, 5) is None
        assert db._query("SELECT address FROM enroll_attempts") == [("10.0.2.1",)]  # type: ignore[attr-defined]


def test_note_enroll_attempt_is_exact_under_concurrency(db_url: str) -> None:
    """Threads with connections of their own (PostgreSQL) or sharing the writer (SQLite): never over the limit."""
    with open_database(db_url) as db:
        barrier = threading.Barrier(12)

        def attempt(_: int) -> int | None:
            barrier.wait()
            return db.note_enroll_attempt("10.0.0.9", int(time.time() * 1000), 60_000, 4)

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(attempt, range(12)))
    assert answers.count(None) == 4
    assert all(isinstance(wait, int) and 1 <= wait <= 60 for wait in answers if wait is not None)
