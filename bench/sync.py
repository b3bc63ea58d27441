"""Sync benchmark: a real town server (uvicorn subprocess on 127.0.0.1) and real encrypted stores.

    .venv/bin/python bench/sync.py                 # 10,000 records, naive baseline on the same 10,000
    .venv/bin/python bench/sync.py --records 2000 --naive 500

Measures, end to end with merge and durable encrypted store commits: pushing 10,000 new changes, pulling them
into an empty device, pushing 500 changed records, a sync with nothing to do; then the naive baseline (one POST
per record, one GET per record) for the same data. Prints a table of wall times and records per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")  # unlocking is not what this measures

from field_agent.store import Store
from field_agent.sync.agent import SyncAgent, SyncResult, enroll
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

PASSPHRASE = "benchmark passphrase of real strength 7"
NOTES = "入户排查：家中老人行动不便，需上门采样；联系人为其女儿，白天在单位，晚上七点后在家。" * 4


def household(n: int) -> dict[str, Any]:
    """A household of about 700 bytes as JSON, like the ones a grid worker records."""
    return {
        "building": str(n // 100 + 1),
        "unit": str(n % 4 + 1),
        "room": f"{n % 30 + 1:02d}01",
        "address": f"福清市龙江街道幸福社区{n // 100 + 1}栋{n % 4 + 1}单元{n % 30 + 1:02d}01室",
        "head": "陈建国",
        "phone": f"138{n:08d}",
        "notes": NOTES,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``field-server serve`` in a subprocess, on its own core."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.db_url = f"sqlite:///{directory / 'server.db'}"
        db = open_database(self.db_url)
        self.grid = create_grid(db, town="龙江街道", name="幸福社区第一网格")
        self.codes = [issue_code(db, self.grid, f"worker {n}", "worker", 3_600_000)["code"] for n in range(2)]
        naive_grid = create_grid(db, town="龙江街道", name="幸福社区第二网格")  # the baseline's own data
        self.codes += [issue_code(db, naive_grid, f"naive {n}", "worker", 3_600_000)["code"] for n in range(2)]
        db.close()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [str(Path(sys.executable).with_name("field-server")), "--data-dir", str(directory), "serve",
                   "--db", self.db_url, "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"the server did not start: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def device(server: Server, directory: Path, name: str) -> Store:
    store = Store.create(directory / name, PASSPHRASE)
    await enroll(store, server.url, server.codes.pop(0), name)
    return store


async def timed(call: Callable[[], Awaitable[SyncResult]]) -> tuple[float, SyncResult]:
    started = time.perf_counter()
    result = await call()
    elapsed = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    return elapsed, result


async def naive_push(server: Server, store: Store, count: int) -> float:
    """The baseline: one POST (and one durable acknowledgement) per record."""
    with store.batch():
        for n in range(count):
            store.put("household", household(n))
    agent = SyncAgent(store, batch_size=1)
    elapsed, result = await timed(lambda: agent.sync(pull=False))
    assert result.pushed == count
    return elapsed


async def naive_pull(server: Server, store: Store, count: int) -> float:
    """The baseline: one GET per record."""
    agent = SyncAgent(store, page_size=1)
    elapsed, result = await timed(agent.sync)
    assert result.pulled >= count
    return elapsed


async def run(records: int, changed: int, naive: int, directory: Path) -> list[tuple[str, int, float]]:
    server = Server(directory)
    rows: list[tuple[str, int, float]] = []
    try:
        writer = await device(server, directory, "writer")
        with writer.batch():
            ids = [writer.put("household", household(n))["id"] for n in range(records)]
        agent = SyncAgent(writer)
        elapsed, result = await timed(lambda: agent.sync(pull=False))
        assert result.pushed == records
        rows.append((f"push {records:,} new changes", records, elapsed))
        await agent.sync()  # the server's echo of what was pushed

        reader = await device(server, directory, "reader")
        elapsed, result = await timed(lambda: SyncAgent(reader).sync())
        assert result.pulled >= records
        rows.append((f"pull {records:,} records into an empty device", records, elapsed))

        with writer.batch():
            for record_id in ids[:changed]:
                writer.put("household", {"notes": "复查：已完成上门采样"}, record_id=record_id)
        elapsed, result = await timed(lambda: agent.sync(pull=False))
        assert result.pushed == changed
        rows.append((f"push {changed:,} changed records", changed, elapsed))
        elapsed, _ = await timed(agent.sync)
        rows.append((f"  then pull their {changed:,} echoes", changed, elapsed))

        noop = []
        for _ in range(7):
            elapsed, result = await timed(agent.sync)
            assert result.pushed == 0 and result.pulled == 0
            noop.append(elapsed)
        rows.append(("sync with nothing to do (median of 7)", 0, statistics.median(noop)))

        if naive:
            baseline = await device(server, directory, "naive")
            rows.append((f"naive: one POST per record ({naive:,})", naive, await naive_push(server, baseline, naive)))
            empty = await device(server, directory, "naive-reader")
            rows.append((f"naive: one GET per record ({naive:,})", naive, await naive_pull(server, empty, naive)))
        for store in (writer, reader):
            store.close()
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=500)
    parser.add_argument("--naive", type=int, default=None, help="records for the naive baseline (default: --records)")
    args = parser.parse_args()
    naive = args.records if args.naive is None else args.naive
    with tempfile.TemporaryDirectory(prefix="field-sync-bench-") as directory:
        rows = asyncio.run(run(args.records, args.changed, naive, Path(directory)))
    print(f"\nSync benchmark — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, server: field-server (uvicorn, SQLite) on 127.0.0.1, "
          f"load average {', '.join(f'{value:.1f}' for value in os.getloadavg())}")  # fmt: skip
    print(f"{'step':<46} {'records':>8} {'wall s':>8} {'records/s':>10}")
    print("-" * 75)
    for name, count, elapsed in rows:
        rate = f"{count / elapsed:,.0f}" if count else "-"
        print(f"{name:<46} {count:>8,} {elapsed:>8.3f} {rate:>10}")


if __name__ == "__main__":
    main()
