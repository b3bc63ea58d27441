"""A TCP proxy in front of the town server that cuts connections at random byte offsets, and logs every cut.

It runs in the orchestrator's event loop. Each new connection is cut with probability ``cut_rate``: a direction
(request or answer) and an offset are drawn, and once that many bytes have passed in that direction both sides are
closed abruptly (RST), wherever in an HTTP message that falls. ``on_push`` is called when a push request starts
flowing upstream, so the orchestrator can SIGKILL the server in the middle of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

CHUNK = 16 * 1024


@dataclass
class Cut:
    """One connection cut on purpose."""

    connection: int
    direction: str
    offset: int
    request: str


@dataclass
class ProxyStats:
    connections: int = 0
    cuts: list[Cut] = field(default_factory=list)
    upstream_refused: int = 0
    planned: list[tuple[int, str, int]] = field(default_factory=list)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST, the way a dropped mobile link looks to both ends."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Listens on ``listen_port`` and forwards to ``upstream_port`` on 127.0.0.1."""

    def __init__(self, upstream_port: int, rng: random.Random, max_offset: int = 60_000) -> None:
        self.upstream_port = upstream_port
        self.rng = rng
        self.max_offset = max_offset
        self.cut_rate = 0.0
        self.on_push: Callable[[], None] | None = None
        self.stats = ProxyStats()
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                _abort(writer)
            await self._server.wait_closed()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        number = self.stats.connections
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            self.stats.upstream_refused += 1
            _abort(client_writer)
            return
        plan: tuple[str, int] | None = None
        if self.rng.random() < self.cut_rate:
            # cuts land in headers, in small bodies and deep in large ones alike
            reach = self.rng.choice((250, 1_500, 8_000, self.max_offset))
            plan = (self.rng.choice(("request", "answer")), self.rng.randrange(0, reach))
            self.stats.planned.append((number, *plan))
        state = {"request": "", "cut": False}
        self._open.update((client_writer, upstream_writer))

        def cut(direction: str, offset: int) -> None:
            if not state["cut"]:
                state["cut"] = True
                self.stats.cuts.append(Cut(number, direction, offset, state["request"]))
            _abort(client_writer)
            _abort(upstream_writer)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str) -> None:
            passed = 0
            try:
                while True:
                    data = await reader.read(CHUNK)
                    if not data:
                        break
                    if direction == "request":
                        head = data[:40].split(b"\r\n", 1)[0]
                        if head.startswith((b"GET ", b"POST ")):
                            state["request"] = head.decode("latin-1")
                            if head.startswith(b"POST /v1/push") and self.on_push is not None:
                                self.on_push()
                    if plan is not None and plan[0] == direction and passed + len(data) > plan[1]:
                        keep = plan[1] - passed
                        if keep > 0:
                            writer.write(data[:keep])
                            with contextlib.suppress(OSError, ConnectionError):
                                await writer.drain()
                        cut(direction, plan[1])
                        return
                    passed += len(data)
                    writer.write(data)
                    await writer.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                if not state["cut"]:
                    with contextlib.suppress(OSError, RuntimeError):
                        writer.close()

        try:
            await asyncio.gather(
                pump(client_reader, upstream_writer, "request"), pump(upstream_reader, client_writer, "answer")
            )
        finally:
            self._open.discard(client_writer)
            self._open.discard(upstream_writer)
            for writer in (client_writer, upstream_writer):
                with contextlib.suppress(OSError, RuntimeError):
                    writer.close()
