"""Load on the town server: N simulated tablets push 500 changes each in batches, then pull their grid.

The server runs as ``field-server serve --workers N`` (uvicorn, its own processes) on 127.0.0.1; the tablets are
asyncio tasks in this process, each with its own keep-alive connection (aiohttp by default: on a 2-core machine the
load generator shares the CPU with the server, and aiohttp needs about half of httpx's CPU per request). Prints
changes/s, request latency p50/p99, errors, the CPU the server (all its processes) and the load generator used while
pushing and while pulling, and a final count that proves no change was lost or duplicated (server database and
every tablet's pull). ``--instances 1,2`` runs that many separate ``serve`` processes on their own ports against
the same database (a city's servers behind a load balancer: tablet i talks to instance i mod N). Usage:

    .venv/bin/python bench/server_load.py [--devices 50,200] [--db sqlite,postgres] [--workers 1,2]
        [--instances 1,2] [--changes 500] [--batch 100] [--page 500] [--client aiohttp|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

try:  # the lighter load generator (bench extra); httpx is what the tablets use
    import aiohttp
except ImportError:  # pragma: no cover
    aiohttp = None

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid
from server_stub.sealing import KEY_FILE_ENV

PG_URL = os.environ.get("FIELD_SERVER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DEVICES_PER_GRID = 10
SERVE_ARGS = os.environ.get("FIELD_SERVER_BENCH_ARGS", "").split()
UPDATE_SHARE = 5  # every 5th change edits a record this tablet made earlier


@dataclass
class Tablet:
    code: str
    grid: str
    node: str = field(default_factory=new_node_id)
    token: str = ""
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    last_notes: dict[str, str] = field(default_factory=dict)
    pulled: list[str] = field(default_factory=list)


class Connection:
    """One tablet's keep-alive connection to the server: httpx (as the sync agent) or aiohttp (a lighter load
    generator, so that on a 2-core machine the simulated tablets leave more of the CPU to the server)."""

    def __init__(self, base: str, kind: str) -> None:
        self.kind = kind
        if kind == "httpx":
            self._httpx = httpx.AsyncClient(base_url=base, timeout=120)
        elif aiohttp is None:
            raise SystemExit("--client aiohttp needs the bench extra: pip install -e '.[bench]'")
        else:
            self._aiohttp = aiohttp.ClientSession(
                base_url=base,
                connector=aiohttp.TCPConnector(limit=1),
                timeout=aiohttp.ClientTimeout(total=120),
            )

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> tuple[int, bytes]:
        """(status, body); raises ConnectionError when the connection failed."""
        if self.kind == "httpx":
            try:
                response = await self._httpx.request(
                    method, path, content=body, params=params, headers=headers, json=json
                )
            except httpx.TransportError as error:
                raise ConnectionError(repr(error)) from error
            return response.status_code, response.content
        try:
            async with self._aiohttp.request(
                method, path, data=body, params=params, headers=headers, json=json
            ) as response:
                return response.status, await response.read()
        except aiohttp.ClientError as error:
            raise ConnectionError(repr(error)) from error

    async def aclose(self) -> None:
        if self.kind == "httpx":
            await self._httpx.aclose()
        else:
            await self._aiohttp.close()


def prepare_changes(tablet: Tablet, changes: int, batch: int) -> None:
    """The tablet's whole working day, made before the clock starts: mostly new households, some edits."""
    clock = HybridClock(tablet.node)
    replica: dict[str, dict[str, Any]] = {}
    made: list[dict[str, Any]] = []
    for n in range(changes):
        if n % UPDATE_SHARE == UPDATE_SHARE - 1 and tablet.created:
            record_id = sorted(tablet.created)[n % len(tablet.created)]
            values = {"notes": f"第{n}次走访"}
        else:
            record_id = new_id()
            values = {"address": f"{n // 20 + 1}栋{n % 20 + 1}01", "notes": "新建"}
        envelope, change = local_edit(
            replica.get(record_id), clock, record_id=record_id, kind="household", grid=tablet.grid, values=values
        )
        replica[record_id] = envelope
        tablet.created.add(record_id)
        tablet.last_notes[record_id] = values["notes"]
        made.append(change)
    tablet.batches = [made[i : i + batch] for i in range(0, len(made), batch)]


async def run_tablet(
    client: Connection,
    tablet: Tablet,
    latencies: list[float],
    errors: list[str],
    applied: list[int],
    retried: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {tablet.token}", "Content-Type": "application/json"}
    for index, changes in enumerate(tablet.batches):
        body = orjson.dumps({"batch_id": f"{tablet.node}-{index:04d}", "changes": changes})
        for attempt in range(3):  # a tablet retries a cut connection with the same batch id
            started = time.perf_counter()
            try:
                status, content = await client.request("POST", "/v1/push", body=body, headers=headers)
                break
            except ConnectionError as error:
                retried.append(repr(error))
                if attempt == 2:
                    errors.append(f"push: {error!r}")
        else:
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"push {status}: {content[:200].decode(errors='replace')}")
            continue
        results = orjson.loads(content)["results"]
        applied.append(sum(1 for r in results if r["status"] in ("applied", "conflict")))
        errors.extend(f"refused: {r['code']}" for r in results if r["status"] == "refused")


async def pull_tablet(
    client: Connection, tablet: Tablet, latencies: list[float], errors: list[str], page_size: int
) -> None:
    headers = {"Authorization": f"Bearer {tablet.token}"}
    cursor, more = 0, True
    while more:
        started = time.perf_counter()
        try:
            status, content = await client.request(
                "GET", "/v1/pull", params={"cursor": cursor, "limit": page_size}, headers=headers
            )
        except ConnectionError as error:
            errors.append(f"pull: {error}")
            return
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"pull {status}")
            return
        page = orjson.loads(content)
        tablet.pulled.extend(record["id"] for record in page["records"] if record["kind"] == "household")
        cursor, more = page["next_cursor"], page["more"]


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def _processes() -> dict[int, tuple[str, int, int]] | None:
    """Every process: pid → (name, parent pid, CPU ticks used by it and by its exited children); None without
    /proc."""
    found: dict[int, tuple[str, int, int]] = {}
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return None
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (name, int(fields[1]), sum(int(field) for field in fields[11:15]))
    return found


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its child processes (server workers) have used so far; NaN where
    /proc is not available."""
    processes = _processes()
    if processes is None:
        return float("nan")
    tree: set[int] = set()
    grown = {pid}
    while grown:
        tree |= grown
        grown = {child for child, (_, parent, _) in processes.items() if parent in grown} - tree
    return sum(processes[member][2] for member in tree if member in processes) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the local PostgreSQL server: every ``postgres`` process, plus what its exited
    children (backends of closed connections) used; NaN where /proc is not available."""
    processes = _processes()
    if processes is None:
        return float("nan")
    return sum(ticks for name, _, ticks in processes.values() if name == "postgres") / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scenario(
    db_name: str,
    devices: int,
    changes: int,
    batch: int,
    client_kind: str = "httpx",
    workers: int = 1,
    page: int = 500,
    instances: int = 1,
) -> dict[str, Any]:
    """One run; ``instances`` separate ``serve`` processes on their own ports (as on separate hosts behind a load
    balancer, which sends tablet i to instance i mod N), each with ``workers`` worker processes."""
    workdir = Path(tempfile.mkdtemp(prefix="server-load-"))
    url = (
        f"sqlite:///{workdir / 'server.db'}"
        if db_name == "sqlite"
        else (f"{PG_URL}?schema=bench_{uuid.uuid4().hex[:12]}")
    )
    os.environ[KEY_FILE_ENV] = str(workdir / "server.key")  # the same key here and in the server's processes
    db = open_database(url)
    grids = [create_grid(db, town="玉屏街道", name=f"压测{g}网格") for g in range(max(1, devices // DEVICES_PER_GRID))]
    tablets = [
        Tablet(issue_code(db, grids[i % len(grids)], f"网格员{i}", "worker", 3_600_000)["code"], grids[i % len(grids)])
        for i in range(devices)
    ]
    for tablet in tablets:
        prepare_changes(tablet, changes, batch)
    ports = [free_port() for _ in range(instances)]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from server_stub.cli import main; main()",
                "--data-dir",
                str(workdir),
                "serve",
                "--db",
                url,
                "--port",
                str(port),
                "--enroll-limit",
                str(devices * 2),
                "--workers",
                str(workers),
                *SERVE_ARGS,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    push_latency: list[float] = []
    pull_latency: list[float] = []
    errors: list[str] = []
    retried: list[str] = []
    applied: list[int] = []
    # one client (one connection) per tablet, as in the field; a shared pool of hundreds of connections would
    # spend the load generator's CPU on pool bookkeeping instead of requests
    clients = [Connection(bases[i % instances], client_kind) for i in range(len(tablets))]

    def server_cpu_s() -> float:
        return sum(process_cpu_s(server.pid) for server in servers)

    try:
        for client in clients[:instances]:  # one per instance
            for _ in range(300):
                try:
                    if (await client.request("GET", "/v1/health"))[0] == 200:
                        break
                except ConnectionError:
                    await asyncio.sleep(0.1)
        for client, tablet in zip(clients, tablets, strict=True):
            status, content = await client.request(
                "POST", "/v1/enroll", json={"code": tablet.code, "node_id": tablet.node}
            )
            if status != 200:
                raise SystemExit(f"enrolment failed: {status} {content[:200]!r}")
            tablet.token = orjson.loads(content)["token"]
        server_cpu_started = server_cpu_s()
        db_cpu_started = postgres_cpu_s() if db_name == "postgres" else 0.0
        started = time.perf_counter()
        cpu_started = time.process_time()
        await asyncio.gather(
            *(run_tablet(c, t, push_latency, errors, applied, retried) for c, t in zip(clients, tablets, strict=True))
        )
        push_seconds = time.perf_counter() - started
        push_load = os.getloadavg()[0]
        client_cpu = time.process_time() - cpu_started
        server_cpu = server_cpu_s() - server_cpu_started
        db_cpu = postgres_cpu_s() - db_cpu_started if db_name == "postgres" else float("nan")
        pull_started, pull_cpu_started = time.perf_counter(), time.process_time()
        pull_server_started = server_cpu_s()
        await asyncio.gather(
            *(pull_tablet(c, t, pull_latency, errors, page) for c, t in zip(clients, tablets, strict=True))
        )
        pull_seconds = time.perf_counter() - pull_started
        pull_client_cpu = time.process_time() - pull_cpu_started
        pull_server_cpu = server_cpu_s() - pull_server_started
        total_seconds = time.perf_counter() - started
        for client in clients:
            await client.aclose()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    expected = {grid: set() for grid in grids}
    last_notes: dict[str, str] = {}
    for tablet in tablets:
        expected[tablet.grid] |= tablet.created
        last_notes.update(tablet.last_notes)
    stored = {grid: {e["id"]: e for e in db.iter_records(grid) if e["kind"] == "household"} for grid in grids}
    lost = sum(len(expected[g] - set(stored[g])) for g in grids)
    extra = sum(len(set(stored[g]) - expected[g]) for g in grids)
    wrong = sum(1 for g in grids for rid, e in stored[g].items() if e["fields"]["notes"] != last_notes.get(rid))
    pull_dupes = sum(len(t.pulled) - len(set(t.pulled)) for t in tablets)
    pull_missing = sum(len(expected[t.grid] - set(t.pulled)) for t in tablets)
    if db_name == "postgres":
        db.drop_schema()  # type: ignore[attr-defined]
    db.close()
    push_latency.sort()
    pull_latency.sort()
    return {
        "db": db_name,
        "workers": workers,
        "instances": instances,
        "load_after_push": push_load,
        "client": client_kind,
        "devices": devices,
        "changes": devices * changes,
        "accepted": sum(applied),
        "push_s": push_seconds,
        "changes_per_s": sum(applied) / push_seconds,
        "total_s": total_seconds,
        "client_cpu_s": client_cpu,
        "pull_s": pull_seconds,
        "pull_client_cpu_s": pull_client_cpu,
        "pull_server_cpu_s": pull_server_cpu,
        "server_cpu_s": server_cpu,
        "db_cpu_s": db_cpu,
        "push_p50_ms": statistics.median(push_latency) * 1000,
        "push_p99_ms": percentile(push_latency, 0.99) * 1000,
        "pull_p50_ms": statistics.median(pull_latency) * 1000,
        "pull_p99_ms": percentile(pull_latency, 0.99) * 1000,
        "errors": len(errors),
        "retries": len(retried),
        "records": sum(len(v) for v in expected.values()),
        "lost": lost + pull_missing,
        "duplicated": extra + pull_dupes,
        "wrong_value": wrong,
        "first_errors": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="50,200")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--workers",
        default="1,2",
        help="server worker processes, e.g. 1,2 (one row each; the server's default is 1 per CPU core, at most 4)",
    )
    parser.add_argument(
        "--instances",
        default="1",
        help="separate serve processes on their own ports sharing the database, e.g. 1,2 (one row each)",
    )
    parser.add_argument("--page", type=int, default=500, help="records per pull page (the sync agent's default)")
    parser.add_argument(
        "--client",
        default="aiohttp",
        choices=("aiohttp", "httpx"),
        help="the simulated tablets' HTTP client: aiohttp (default) leaves more of the 2 cores to the server; "
        "httpx is what the sync agent uses",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for db_name in args.db.split(","):
        for devices in (int(n) for n in args.devices.split(",")):
            for workers in (int(n) for n in args.workers.split(",")):
                for instances in (int(n) for n in args.instances.split(",")):
                    rows.append(
                        asyncio.run(
                            scenario(
                                db_name, devices, args.changes, args.batch, args.client, workers, args.page, instances
                            )
                        )
                    )
                    if args.json:
                        print(json.dumps(rows[-1]), flush=True)
    columns = [
        ("db", "db", "<9", ""),
        ("workers", "workers", ">8", ""),
        ("instances", "instances", ">10", ""),
        ("devices", "devices", ">8", ""),
        ("changes", "changes", ">8", ""),
        ("accepted", "accepted", ">9", ""),
        ("push s", "push_s", ">7", ".2f"),
        ("client cpu", "client_cpu_s", ">11", ".1f"),
        ("server cpu", "server_cpu_s", ">11", ".1f"),
        ("pg cpu", "db_cpu_s", ">7", ".1f"),
        ("changes/s", "changes_per_s", ">10", ".0f"),
        ("push p50", "push_p50_ms", ">9", ".0f"),
        ("push p99", "push_p99_ms", ">9", ".0f"),
        ("pull s", "pull_s", ">7", ".2f"),
        ("client cpu", "pull_client_cpu_s", ">11", ".1f"),
        ("server cpu", "pull_server_cpu_s", ">11", ".1f"),
        ("pull p50", "pull_p50_ms", ">9", ".0f"),
        ("pull p99", "pull_p99_ms", ">9", ".0f"),
        ("load", "load_after_push", ">6", ".1f"),
        ("errors", "errors", ">7", ""),
        ("retries", "retries", ">8", ""),
        ("records", "records", ">8", ""),
        ("lost", "lost", ">5", ""),
        ("dup", "duplicated", ">4", ""),
        ("wrong", "wrong_value", ">6", ""),
    ]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"batch={args.batch} page={args.page} changes/device={args.changes} client={args.client} cpus={os.cpu_count()} "
        f"load average {load} (latencies in ms)"
    )
    print("".join(f"{title:{align}}" for title, _, align, _ in columns))
    for r in rows:
        print("".join(f"{r[key]:{align}{fmt}}" for _, key, align, fmt in columns))
        for error in r["first_errors"]:
            print(f"  e.g. {error}")


if __name__ == "__main__":
    main()
