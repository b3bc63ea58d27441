"""Bytes on the wire with real stores and a real server: compressed both ways, and no echo of a device's own push."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import httpx
import orjson
import zstandard

from field_agent.domain.envelope import open_conflicts
from field_agent.store import Store
from field_agent.store.salvage import salvage

from .harness import PASSPHRASE, Town, enrolled, replica, server_state, sync


class Recording(httpx.AsyncBaseTransport):
    """A real HTTP transport that notes each request's encoding and the records of each pull page received."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.pushes: list[str | None] = []  # each push body's Content-Encoding
        self.pull_encodings: list[str | None] = []
        self.pulled: list[str] = []  # ids of the records in every pull page
        self.skipping: list[bool] = []  # whether each pull asked to leave out the device's own versions

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        await response.aclose()
        encoding = response.headers.get("content-encoding")
        if request.url.path.endswith("/push"):
            self.pushes.append(request.headers.get("content-encoding"))
        elif request.url.path.endswith("/pull") and response.status_code == 200:
            self.pull_encodings.append(encoding)
            self.skipping.append(request.url.params.get("skip_own") == "true")
            plain = {
                "zstd": lambda data: zstandard.ZstdDecompressor().stream_reader(data).read(),
                "gzip": gzip.decompress,
            }
            body = orjson.loads(plain[encoding](raw) if encoding else raw)
            self.pulled += [record["id"] for record in body["records"]]
        return httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def notes(n: int) -> dict[str, Any]:
    return {"address": f"{n}栋{n % 4 + 1}单元{n % 30 + 1:02d}01", "notes": f"第{n}户：老人行动不便，需上门采样"}


async def test_a_tablet_does_not_pull_back_its_own_push_but_does_pull_a_conflict(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid("wire")
    a, b = await enrolled(town, grid, tmp_path, "a"), await enrolled(town, grid, tmp_path, "b")
    await sync(a)
    ids = [a.put("household", notes(n))["id"] for n in range(60)]
    wire = Recording()
    result = await sync(a, transport=wire, page_size=25)
    assert result.pushed == 60
    assert wire.pushes and set(wire.pushes) == {"zstd"}
    assert wire.pulled == []  # nothing of its own came back
    assert replica(a) == server_state(town, grid)

    wire = Recording()
    await sync(b, transport=wire, page_size=25)
    assert set(ids) <= set(wire.pulled) and "zstd" in wire.pull_encodings
    assert replica(b) == server_state(town, grid)

    # both change one phone unseen: the conflict the server opens reaches both, the pusher of the winner too
    a.put("household", {"phone": "13900001111"}, record_id=ids[0])
    b.put("household", {"phone": "13700002222"}, record_id=ids[0])
    a.put("household", {"phone": "13600003333"}, record_id=ids[1])  # only a: never comes back to a
    await sync(a)
    wire = Recording()
    await sync(b, transport=wire)
    assert wire.pulled == [ids[1], ids[0]]  # a's edit, then b's own record with the conflict on it
    wire = Recording()
    await sync(a, transport=wire)
    assert wire.pulled == [ids[0]]
    for tablet in (a, b):
        assert replica(tablet) == server_state(town, grid)
        assert open_conflicts(replica(tablet)[ids[0]])


async def test_a_tablet_that_asks_for_nothing_compressed_syncs_as_before(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid("wire plain")
    a = await enrolled(town, grid, tmp_path, "plain")
    ids = {a.put("household", notes(n))["id"] for n in range(30)}
    wire = Recording()
    await sync(a, transport=wire, compress=False, skip_own=False)
    assert set(wire.pushes) == {None} and set(wire.pull_encodings) == {None}
    assert ids <= set(wire.pulled)  # the echo, as before
    assert replica(a) == server_state(town, grid)


async def test_a_salvaged_store_pulls_back_its_own_records_once(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid("wire salvage")
    a = await enrolled(town, grid, tmp_path, "salvaged")
    await sync(a)
    ids = {a.put("household", notes(n))["id"] for n in range(12)}
    await sync(a)
    a.close()
    salvage(tmp_path / "salvaged", PASSPHRASE, tmp_path / "copy")
    copy = await asyncio.to_thread(Store.open, tmp_path / "copy", PASSPHRASE)
    try:
        wire = Recording()
        await sync(copy, transport=wire)
        assert ids <= set(wire.pulled) and wire.skipping and not any(wire.skipping)  # its own records too, once
        wire = Recording()
        await sync(copy, transport=wire)
        assert wire.skipping and all(wire.skipping)
        assert replica(copy) == server_state(town, grid)
    finally:
        copy.close()
