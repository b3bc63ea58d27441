"""A shaping TCP proxy on 127.0.0.1: a slow, far, lossy link that sometimes drops a connection mid-transfer.

    proxy = Shaper("127.0.0.1", port, Link(rate_bps=64_000, rtt_s=0.4, loss=0.0, cut_share=0.01), seed=1)
    url = await proxy.start()          # http://127.0.0.1:<port>, relaying to the upstream server
    ...
    await proxy.stop()

    python -m bench.shaper --upstream 127.0.0.1:8000 --rate 64000 --rtt 0.4 --cut-share 0.01   # standalone

Each direction is its own link of ``rate_bps`` bits per second: bytes are serialised onto the link in order (a
chunk of n bytes occupies it for 8n / rate seconds) and arrive half a round trip after they left. A lost segment
(``loss``, per 1,460 bytes) arrives a retransmission timeout later (max(200 ms, one round trip)), holding back
what follows it, as TCP would. A cut connection (``cut_share`` of connections, or those ``plan`` names) is aborted
once a chosen number of bytes has gone through in one direction, the bytes before the cut delivered, the rest
lost; both ends see a reset. Pure Python asyncio, no root, no kernel queueing disciplines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SEGMENT = 1460


@dataclass(frozen=True)
class Link:
    """One way of the link's shape (the same both ways); ``rate_bps`` 0 means unlimited."""

    rate_bps: int = 0
    rtt_s: float = 0.0
    loss: float = 0.0
    cut_share: float = 0.0
    cut_within: int = 20_000  # a cut falls at a uniform byte offset below this, in a random direction


UNSHAPED = Link()


@dataclass(frozen=True)
class Cut:
    """Abort the connection once ``at`` bytes have gone through in ``direction`` ("up" to the server, "down")."""

    direction: str
    at: int


@dataclass
class Fired:
    connection: int
    direction: str
    at: int


@dataclass
class _Connection:
    number: int
    cut: Cut | None
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    done: bool = False


class Shaper:
    """Listens on 127.0.0.1 and relays to ``(host, port)`` through a link shaped as ``link``.

    ``plan(n)`` (n = 1, 2, ... in order of connection) may name a cut for a connection; without a plan, each
    connection is cut with probability ``link.cut_share``; ``cut_at_total`` cuts, once, the connection that carries
    that byte counted over all connections both ways. ``sent``/``received`` count the bytes relayed to the
    server and back; ``connections`` the connections opened; ``fired`` the cuts made; ``cut_event`` is set at each
    cut (a test waits on it, then clears it)."""

    def __init__(
        self,
        host: str,
        port: int,
        link: Link = UNSHAPED,
        *,
        seed: int = 0,
        plan: Callable[[int], Cut | None] | None = None,
        cut_at_total: int | None = None,
    ) -> None:
        self.upstream = (host, port)
        self.cut_at_total = cut_at_total  # cut whichever connection carries this byte (both ways, all connections)
        self._through_total = 0
        self.link = link
        self.rng = random.Random(seed)
        self.plan = plan or self._random_cut
        self.sent = 0
        self.received = 0
        self.connections = 0
        self.fired: list[Fired] = []
        self.cut_event = asyncio.Event()
        self.port = 0
        self._numbers = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.Task[None]] = set()
        self._live: list[_Connection] = []

    @property
    def total(self) -> int:
        return self.sent + self.received

    def reset_counts(self) -> None:
        self.sent = self.received = self.connections = 0
        self.fired.clear()

    def _random_cut(self, _number: int) -> Cut | None:
        if self.link.cut_share <= 0 or self.rng.random() >= self.link.cut_share:
            return None
        return Cut(self.rng.choice(("up", "down")), self.rng.randrange(1, self.link.cut_within))

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for connection in self._live:
            self._abort(connection)
        if self._open:
            await asyncio.gather(*self._open, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        number = next(self._numbers)
        self.connections += 1
        connection = _Connection(number, self.plan(number))
        self._live.append(connection)
        task = asyncio.current_task()
        if task is not None:
            self._open.add(task)
            task.add_done_callback(self._open.discard)
        try:
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
        finally:
            self._live.remove(connection)

    async def _pipe(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        """Read as fast as the sender writes; a second task delivers each chunk when the shaped link would."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        deliver = asyncio.create_task(self._deliver(connection, queue, writer, direction))
        link, free_at, through = self.link, 0.0, 0
        cut = connection.cut if connection.cut is not None and connection.cut.direction == direction else None
        try:
            while not connection.done:
                chunk = await reader.read(SEGMENT * 8)
                if not chunk:
                    break
                if (
                    cut is None
                    and self.cut_at_total is not None
                    and self._through_total + len(chunk) >= self.cut_at_total
                ):
                    cut = Cut(direction, through + self.cut_at_total - self._through_total)
                    connection.cut = cut
                    self.cut_at_total = None
                if cut is not None and through + len(chunk) >= cut.at:
                    chunk = chunk[: cut.at - through]
                    through = cut.at
                else:
                    through += len(chunk)
                self._through_total += len(chunk)
                now = time.monotonic()
                for start in range(0, len(chunk), SEGMENT):
                    segment = chunk[start : start + SEGMENT]
                    free_at = max(free_at, now) + (len(segment) * 8 / link.rate_bps if link.rate_bps else 0.0)
                    arrive = free_at + link.rtt_s / 2
                    if link.loss and self.rng.random() < link.loss:
                        arrive += max(0.2, link.rtt_s)
                    queue.put_nowait((arrive, segment))
                if cut is not None and through >= cut.at:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await deliver
        if cut is not None and through >= cut.at:
            self.fired.append(Fired(connection.number, direction, cut.at))
            self.cut_event.set()
        self._abort(connection)

    async def _deliver(
        self,
        connection: _Connection,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        writer: asyncio.StreamWriter,
        direction: str,
    ) -> None:
        ready_at = 0.0
        while (item := await queue.get()) is not None:
            arrive, segment = item
            ready_at = max(ready_at, arrive)  # in order: a late segment holds back those behind it
            wait = ready_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if connection.done:
                return
            try:
                writer.write(segment)
                await writer.drain()
            except (ConnectionError, OSError):
                self._abort(connection)
                return
            if direction == "up":
                self.sent += len(segment)
            else:
                self.received += len(segment)

    @staticmethod
    def _abort(connection: _Connection) -> None:
        connection.done = True
        for writer in connection.writers:
            writer.transport.abort()


async def _serve(args: argparse.Namespace) -> None:
    host, port = args.upstream.rsplit(":", 1)
    link = Link(args.rate, args.rtt, args.loss, args.cut_share)
    proxy = Shaper(host, int(port), link, seed=args.seed)
    print(await proxy.start(), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await proxy.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="host:port of the server")
    parser.add_argument("--rate", type=int, default=64_000, help="bits per second each way (0: unlimited)")
    parser.add_argument("--rtt", type=float, default=0.4, help="round trip in seconds")
    parser.add_argument("--loss", type=float, default=0.0, help="share of segments lost (and retransmitted)")
    parser.add_argument("--cut-share", type=float, default=0.0, help="share of connections cut mid-transfer")
    parser.add_argument("--seed", type=int, default=1)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
