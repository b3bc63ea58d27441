"""Black-box harness: a real `field-server serve` process and tablets driven only through the `field-agent` CLI.

Nothing here reaches into a store or the server's database: every action is a command a worker, a script or the
town office would type, and every check reads what those commands print. Tablets can run under libfaketime
(their own date, the server's stays true), which is how a tablet with a wrong clock is reproduced.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

PASSPHRASE = "the grid tablet of the east gate 1989 spring"
FIELD_AGENT = [sys.executable, "-c", "from field_agent.cli.main import main; main()"]
FIELD_SERVER = [sys.executable, "-c", "from server_stub.cli import main; main()"]
LIBFAKETIME = next(
    (
        path
        for path in (
            Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
            Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
            Path("/usr/lib/faketime/libfaketime.so.1"),
        )
        if path.exists()
    ),
    None,
)


@dataclass
class Ran:
    argv: Sequence[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)

    def ok(self) -> Ran:
        assert self.code == 0, f"{self.argv[3:]} exited {self.code}: {self.err or self.out}"
        return self


async def run(argv: Sequence[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 120) -> Ran:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return Ran(argv, process.returncode, out.decode(), err.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`field-server serve` on a free loopback port, one worker, its data dir and key file in ``directory``."""

    def __init__(self, directory: Path, db_url: str) -> None:
        self.directory = directory
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FIELD_SERVER_DATA_DIR": str(directory),
            "FIELD_SERVER_KEY_FILE": str(directory / "server.key"),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def admin(self, *args: str) -> Any:
        return (await run([*FIELD_SERVER, *args, "--db", self.db_url, "--json"], self.env)).ok().json()

    async def start(self) -> ServerProcess:
        argv = [*FIELD_SERVER, "serve", "--db", self.db_url, "--port", str(self.port), "--workers", "1", "--json"]
        argv += ["--enroll-limit", "1000"]  # a scenario enrols a dozen tablets from 127.0.0.1 within a minute
        self.process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)  # printed once the database is open
        assert line, f"the server did not start: {(await self.process.stderr.read()).decode()}"  # type: ignore[union-attr]
        async with httpx.AsyncClient() as client:
            for _ in range(600):  # until uvicorn answers (it binds after the line above)
                try:
                    if (await client.get(f"{self.url}/v1/health", timeout=2)).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                if self.process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        raise AssertionError("the server never answered /v1/health")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)
        self.process = None

    async def grid(self, name: str) -> str:
        return str((await self.admin("grid", "create", "--town", "玉屏街道", "--name", name))["grid"])

    async def code(self, grid: str, worker: str, role: str = "worker") -> str:
        return str((await self.admin("enroll-code", "--grid", grid, "--worker", worker, "--role", role))["code"])


@dataclass
class Tablet:
    """One tablet's store, used only through `field-agent`; ``days`` shifts its clock with libfaketime."""

    path: Path
    days: float = 0
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        home = self.path.parent / f"{self.path.name}-home"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "FIELD_AGENT_PASSPHRASE": PASSPHRASE, "HOME": str(home)}

    async def cli(self, *args: str, stdin: bytes | None = None) -> Ran:
        env = dict(self.env)
        if self.days:
            assert LIBFAKETIME is not None
            env.update(LD_PRELOAD=str(LIBFAKETIME), FAKETIME=f"{self.days:+g}d", FAKETIME_DONT_FAKE_MONOTONIC="1")
        return await run([*FIELD_AGENT, "--store", str(self.path), *args], env, stdin)

    async def enrol(
        self, server: ServerProcess, grid: str, worker: str, role: str = "worker", url: str | None = None
    ) -> Tablet:
        """Init and enrol; ``url`` is the address the tablet will sync with (a proxy in front of the server)."""
        (await self.cli("init", "--grid", grid, "--kdf-profile", "test")).ok()
        code = await server.code(grid, worker, role)
        (await self.cli("enroll", url or server.url, code, "--name", self.path.name)).ok()
        return self

    async def put(self, kind: str, values: dict[str, Any], record: str | None = None) -> str:
        body = {**values, "id": record} if record else values
        ran = (await self.cli("records", "put", "--kind", kind, stdin=orjson.dumps(body))).ok()
        return ran.out.strip()

    async def delete(self, record: str) -> None:
        (await self.cli("records", "delete", record)).ok()

    async def get(self, record: str) -> Any:
        return (await self.cli("records", "get", record, "--json")).ok().json()

    async def records(self) -> dict[str, Any]:
        listed = (await self.cli("records", "list", "--json", "--include-deleted")).ok().json()
        return {envelope["id"]: envelope for envelope in listed}

    async def sync(self) -> dict[str, Any]:
        ran = await self.cli("sync", "--json")
        summary = ran.json()
        summary["exit"] = ran.code
        return summary

    async def state(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What this tablet shows: every record (deleted ones too) and every conflict, as the CLI prints them."""
        return await self.records(), sorted(await self.conflicts(), key=lambda c: (c["record"], c["cid"]))

    async def status(self) -> dict[str, Any]:
        return (await self.cli("status", "--json")).ok().json()

    async def conflicts(self) -> list[dict[str, Any]]:
        return list((await self.cli("conflicts", "list", "--json")).ok().json())


@dataclass
class Gate:
    """A relay on 127.0.0.1 in front of the server whose faults the scenario switches on, one connection at a time.

    ``errors``: the next N connections are answered with ``status`` by the gate itself (the server never sees them);
    ``cut_push_answers``: the next N pushes reach the server, but their answers are cut after a few bytes;
    ``closed``: every connection is refused, as when the tablet has no signal.
    """

    upstream_port: int
    errors: int = 0
    status: int = 503
    cut_push_answers: int = 0
    closed: bool = False
    seen: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None
    url: str = ""

    async def start(self) -> Gate:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.closed:
            writer.transport.abort()
            return
        if self.errors:
            self.errors -= 1
            await reader.read(65536)
            body = b'{"error": {"code": "unavailable", "message": "the gate answers for the server"}}'
            writer.write(
                f"HTTP/1.1 {self.status} Error\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )
            self.seen.append(str(self.status))
            await writer.drain()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        cut = asyncio.Event()

        async def up() -> None:
            while chunk := await reader.read(65536):
                if chunk.startswith(b"POST /v1/push"):
                    self.seen.append("push")
                    if self.cut_push_answers:
                        self.cut_push_answers -= 1
                        cut.set()
                elif chunk.startswith(b"GET /v1/pull"):
                    self.seen.append("pull")
                upstream_writer.write(chunk)
                await upstream_writer.drain()

        async def down() -> None:
            while chunk := await upstream_reader.read(65536):
                if cut.is_set():  # the server has answered (and committed): the tablet hears only the start
                    writer.write(chunk[:12])
                    await writer.drain()
                    self.seen.append("cut")
                    break
                writer.write(chunk)
                await writer.drain()

        tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            writer.transport.abort()
            upstream_writer.transport.abort()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # a cut connection ends in an error: expected
