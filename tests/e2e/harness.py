"""A real town server under uvicorn on 127.0.0.1 (in a thread) and real encrypted stores enrolled with it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from field_agent.domain.envelope import DELETED
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent, SyncResult, enroll
from field_agent.sync.backoff import RetryPolicy
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

PASSPHRASE = "correct horse battery staple 42"
FAST_RETRY = RetryPolicy(attempts=40, base_s=0.002, cap_s=0.02, budget_s=10)


class Town:
    """One town server: a SQLite database and uvicorn serving it on a free loopback port."""

    def __init__(self, directory: Path, *, ssl: dict[str, str] | None = None, settings: Settings | None = None):
        self.db = open_database(f"sqlite:///{directory / 'server.db'}")
        self.app = create_app(self.db, settings or Settings(enroll_attempts=10_000))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"{'https' if ssl else 'http'}://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", **(ssl or {}))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> Town:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.db.close()

    def new_grid(self, name: str = "Grid") -> str:
        return create_grid(self.db, town="Longjiang", name=name)

    def code(self, grid: str, worker: str = "Li Wei", role: str = "worker") -> str:
        return issue_code(self.db, grid, worker, role, 3_600_000)["code"]

    def records(self, grid: str) -> dict[str, dict[str, Any]]:
        """Every record of ``grid`` except the grid record itself (devices receive that too; compared apart)."""
        return {record["id"]: record for record in self.db.iter_records(grid)}


def open_store(directory: Path, name: str) -> Store:
    return Store.create(directory / name, PASSPHRASE)


async def enrolled(town: Town, grid: str, directory: Path, name: str, url: str | None = None) -> Store:
    store = await asyncio.to_thread(open_store, directory, name)
    await enroll(store, url or town.url, town.code(grid, worker=name), name)
    return store


async def sync(store: Store, **options: Any) -> SyncResult:
    options.setdefault("retry", FAST_RETRY)
    result = await SyncAgent(store, **options).sync()
    assert result.error is None, result.error
    return result


def normal(envelope: dict[str, Any]) -> dict[str, Any]:
    """An envelope without empty set fields (a set edit that changed nothing leaves one locally)."""
    return {**envelope, "sets": {name: elements for name, elements in envelope["sets"].items() if elements}}


def replica(store: Store) -> dict[str, dict[str, Any]]:
    return {envelope["id"]: normal(envelope) for envelope in store.records(None, include_deleted=True)}


def server_state(town: Town, grid: str) -> dict[str, dict[str, Any]]:
    return {record_id: normal(envelope) for record_id, envelope in town.records(grid).items()}


def live(envelope: dict[str, Any]) -> bool:
    return not envelope["fields"].get(DELETED)
