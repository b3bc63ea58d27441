"""A TCP proxy for tests that cuts connections at chosen byte offsets, client→server ("up") or back ("down")."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

REQUEST_MARKERS = {b"POST /v1/push": "push", b"GET /v1/pull": "pull", b"POST /v1/enroll": "enroll"}


@dataclass(frozen=True)
class Cut:
    """Abort the connection once ``at`` bytes have gone through in ``direction`` ("up" or "down")."""

    direction: str
    at: int


@dataclass
class FiredCut:
    connection: int
    direction: str
    at: int
    request: str | None


def random_plan(rng: random.Random, probability: float, max_offset: int) -> Callable[[int], Cut | None]:
    """Each new connection is cut with ``probability`` at a uniform offset in either direction."""

    def plan(_connection: int) -> Cut | None:
        if rng.random() >= probability:
            return None
        return Cut(rng.choice(("up", "down")), rng.randrange(0, max_offset))

    return plan


@dataclass
class _Connection:
    number: int
    cut: Cut | None
    sent: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    request: str | None = None
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    done: bool = False


class FaultProxy:
    """Listens on 127.0.0.1 and relays to ``upstream``, cutting connections as ``plan`` decides."""

    def __init__(self, host: str, port: int, plan: Callable[[int], Cut | None] | None = None) -> None:
        self.upstream = (host, port)
        self.plan = plan or (lambda _n: None)
        self.fired: list[FiredCut] = []
        self._numbers = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.Task[None]] = set()
        self._connections: list[_Connection] = []
        self.port = 0

    async def start(self, scheme: str = "http") -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"{scheme}://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in self._connections:
                self._abort(connection)
            if self._open:
                await asyncio.gather(*self._open, return_exceptions=True)
            await self._server.wait_closed()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        connection = _Connection(next(self._numbers), self.plan(len(self.fired)))
        self._connections.append(connection)
        task = asyncio.current_task()
        if task is not None:
            self._open.add(task)
            task.add_done_callback(self._open.discard)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        connection.writers = [client_writer, upstream_writer]
        await asyncio.gather(
            self._pipe(connection, client_reader, upstream_writer, "up"),
            self._pipe(connection, upstream_reader, client_writer, "down"),
        )

    async def _pipe(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        cut = connection.cut if connection.cut is not None and connection.cut.direction == direction else None
        try:
            while not connection.done:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                if direction == "up":
                    for marker, name in REQUEST_MARKERS.items():
                        if marker in chunk:
                            connection.request = name
                sent = connection.sent[direction]
                if cut is not None and sent + len(chunk) >= cut.at:
                    writer.write(chunk[: cut.at - sent])
                    self.fired.append(FiredCut(connection.number, direction, cut.at, connection.request))
                    self._abort(connection)
                    return
                writer.write(chunk)
                connection.sent[direction] = sent + len(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        self._abort(connection)

    @staticmethod
    def _abort(connection: _Connection) -> None:
        connection.done = True
        for writer in connection.writers:
            writer.transport.abort()
