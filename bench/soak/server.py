"""The town server under test: ``field-server serve`` as a subprocess that can be SIGKILLed and restarted, its
admin commands, and a direct read of its database for the end-of-day checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

SERVER_CLI = [sys.executable, "-c", "from server_stub.cli import main; main()"]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_reachable(url: str = PG_URL) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("select 1")
    except Exception as error:
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return None


class TownServer:
    """One server database and the uvicorn process serving it."""

    def __init__(self, db_url: str, data_dir: Path, env: dict[str, str]) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        # the server's key file, for the server and for this process's own reads of its database
        self.key_file = data_dir / "server.key"
        self.env = {**env, "FIELD_SERVER_DATA_DIR": str(data_dir), "FIELD_SERVER_KEY_FILE": str(self.key_file)}
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0
        self.restarts = 0
        self.log_path = data_dir / "server.log"

    def admin(self, command: str, *args: str) -> Any:
        """Run an admin command (e.g. ``"device revoke"``) with ``--json`` and return its JSON answer."""
        argv = [*SERVER_CLI, *command.split(), "--db", self.db_url, "--json", *args]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"field-server {command} {' '.join(args)} failed: {done.stderr.strip()}")
        return orjson.loads(done.stdout)

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *SERVER_CLI, "serve", "--db", self.db_url, "--port", str(self.port), "--enroll-limit", "100000",
            env=self.env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        await self.wait_healthy()

    async def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}; see {self.log_path}")
                try:
                    answer = await client.get(f"http://127.0.0.1:{self.port}/v1/health", timeout=2)
                    if answer.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server did not come up in {timeout:.0f} s; see {self.log_path}")

    def kill(self) -> bool:
        """SIGKILL the server, every worker process of it (no shutdown of any kind); False if it was not running."""
        if self.process is None or self.process.returncode is not None:
            return False
        os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the supervisor and all its workers
        self.kills += 1
        return True

    async def restart(self) -> None:
        if self.process is not None:
            await self.process.wait()
        self.restarts += 1
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record on the server, by grid then id, read straight from the database."""
        from server_stub.db import open_database
        from server_stub.sealing import sealer_from_file

        records: dict[str, dict[str, dict[str, Any]]] = {}
        with open_database(self.db_url, sealer_from_file(self.key_file)) as db:
            for envelope in db.iter_records():
                records.setdefault(envelope["grid"], {})[envelope["id"]] = envelope
        return records

    def drop_postgres_schema(self) -> None:
        from server_stub.db.postgres import PostgresDatabase
        from server_stub.sealing import sealer_from_file

        database = PostgresDatabase(self.db_url, sealer=sealer_from_file(self.key_file))
        try:
            database.drop_schema()
        finally:
            database.close()
