"""Bytes on the wire: compressed bodies both ways, and a device's pull leaving out what it just pushed."""

from __future__ import annotations

import gzip
import itertools
import random
from typing import Any

import orjson
import pytest
import zstandard

from server_stub.config import Settings

from .harness import Harness, Tablet, household

_batches = itertools.count(1)


def notes(n: int) -> dict[str, Any]:
    return household(f"{n}栋{n % 4 + 1}单元{n % 30 + 1:02d}01", notes=f"第{n}户：老人行动不便，需上门采样，联系人{n}号")


def push_body(tablet: Tablet, changes: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"batch_id": f"wire-{next(_batches):06d}-{tablet.node}", "changes": changes})


async def push_own(tablet: Tablet, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Push as the sync agent does: with the pull cursor this tablet has reached."""
    response = await tablet.client.post(
        "/v1/push", content=push_body(tablet, changes), params={"cursor": tablet.cursor}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def test_a_compressed_push_is_applied(any_server: Harness) -> None:
    grid = any_server.grid()
    tablet = await any_server.tablet(grid)
    for encoding, compress in (("zstd", zstandard.ZstdCompressor().compress), ("gzip", gzip.compress)):
        changes = [tablet.edit(values=notes(n)) for n in range(20)]
        response = await tablet.client.post(
            "/v1/push", content=compress(push_body(tablet, changes)), headers={"content-encoding": encoding}
        )
        assert response.status_code == 200, response.text
        assert [result["status"] for result in response.json()["results"]] == ["applied"] * 20
        for change in changes:
            stored = any_server.db.get_record(change["record"])
            assert stored is not None and stored["fields"]["notes"] == change["fields"]["notes"]["value"]


async def test_answers_come_compressed_as_asked_and_plain_to_a_client_that_does_not_ask(any_server: Harness) -> None:
    grid = any_server.grid()
    writer = await any_server.tablet(grid)
    await writer.push_ok([writer.edit(values=notes(n)) for n in range(40)])
    reader = await any_server.tablet(grid)
    plain = await reader.client.get("/v1/pull", params={"limit": 100}, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    expected = plain.json()
    assert len(expected["records"]) == 41
    for asked, answered in (
        ("zstd", "zstd"),
        ("gzip", "gzip"),
        ("gzip, deflate, zstd", "zstd"),
        ("zstd;q=0, gzip", "gzip"),
    ):
        response = await reader.client.get("/v1/pull", params={"limit": 100}, headers={"accept-encoding": asked})
        assert response.headers["content-encoding"] == answered, asked
        assert int(response.headers["content-length"]) < len(plain.content) // 3
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.json() == expected  # httpx decodes it, as the tablet's client does

    # an older client that sends no Accept-Encoding at all gets the page as before
    old = any_server.client(reader.client.headers["authorization"].removeprefix("Bearer "))
    del old.headers["accept-encoding"]
    response = await old.get("/v1/pull", params={"limit": 100})
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert response.json() == expected
    # an answer below the threshold is sent as it is, whatever the client accepts
    me = await reader.client.get("/v1/me", headers={"accept-encoding": "zstd"})
    assert me.status_code == 200 and "content-encoding" not in me.headers


async def test_a_body_that_decompresses_beyond_the_limit_is_refused(sqlite_url: str) -> None:
    harness = Harness(sqlite_url, Settings(max_body_bytes=256 * 1024))
    try:
        tablet = await harness.tablet(harness.grid())
        # a few kilobytes on the wire, far beyond the limit once decompressed (a "zip bomb")
        padding = b" " * (64 * 1024 * 1024)
        bomb_json = b'{"batch_id":"bomb-00001","changes":[' + padding + b"]}"
        bombs = {
            "zstd": zstandard.ZstdCompressor(level=19).compress(bomb_json),
            "gzip": gzip.compress(bomb_json, compresslevel=9),
        }
        for encoding, bomb in bombs.items():
            assert len(bomb) < harness.settings.max_body_bytes
            response = await tablet.client.post("/v1/push", content=bomb, headers={"content-encoding": encoding})
            assert response.status_code == 413, (encoding, response.text)
            error = response.json()["error"]
            assert error["code"] == "body_too_large" and "decompressed" in error["message"]
        # just under the limit decompressed is fine
        changes = [tablet.edit(values=notes(n)) for n in range(10)]
        body = zstandard.ZstdCompressor().compress(push_body(tablet, changes))
        response = await tablet.client.post("/v1/push", content=body, headers={"content-encoding": "zstd"})
        assert response.status_code == 200, response.text
    finally:
        await harness.close()


async def test_an_unknown_or_broken_encoding_is_refused_clearly(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    body = push_body(tablet, [tablet.edit(values=notes(1))])
    response = await tablet.client.post("/v1/push", content=body, headers={"content-encoding": "br"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_encoding"
    assert response.headers["accept-encoding"] == "zstd, gzip"
    for encoding, broken in (
        ("zstd", zstandard.ZstdCompressor().compress(body)[:-6]),
        ("gzip", gzip.compress(body)[:-6]),
        ("zstd", body),
        ("gzip", body),
    ):
        response = await tablet.client.post("/v1/push", content=broken, headers={"content-encoding": encoding})
        assert response.status_code == 400, (encoding, response.text)
        assert response.json()["error"]["code"] == "bad_encoding"
    assert server.db.count_records() == 1  # only the grid: nothing was applied


async def test_a_pull_leaves_out_what_the_device_just_pushed(any_server: Harness) -> None:
    grid = any_server.grid()
    tablet, other = await any_server.tablet(grid), await any_server.tablet(grid)
    await tablet.pull_all()
    head = tablet.cursor
    changes = [tablet.edit(values=notes(n)) for n in range(30)]
    assert {result["status"] for result in await push_own(tablet, changes)} == {"applied"}
    assert await tablet.pull_all(limit=7, skip_own=True) == []
    assert tablet.cursor == head + 30  # past its own records all the same
    # a pull that does not ask to skip them (a salvaged store refilling, an older tablet) gets them all
    everything = await tablet.client.get("/v1/pull", params={"cursor": 0, "limit": 100})
    assert {c["record"] for c in changes} <= {envelope["id"] for envelope in everything.json()["records"]}
    # another device, and a device that pushes without its cursor (an older tablet), receive them as before
    assert {envelope["id"] for envelope in await other.pull_all(limit=7)} == {grid} | {c["record"] for c in changes}
    old = await any_server.tablet(grid)
    await old.pull_all()
    mine = old.edit(changes[0]["record"], values={"notes": "复查完毕"})
    await old.push_ok([mine])
    assert [envelope["id"] for envelope in await old.pull_all()] == [mine["record"]]

    # an edit of a record as the device holds it comes back neither; the others' edits in between do
    await tablet.pull_all()
    edits = [tablet.edit(change["record"], values={"phone": f"1380000{n:04d}"}) for n, change in enumerate(changes[:5])]
    theirs = other.edit(changes[9]["record"], values={"phone": "13911112222"})
    await push_own(tablet, edits[:2])
    await other.push_ok([theirs])
    await push_own(tablet, edits[2:])
    pulled = await tablet.pull_all(limit=2, skip_own=True)
    assert [envelope["id"] for envelope in pulled] == [theirs["record"]]
    assert tablet.replica == {record_id: any_server.db.get_record(record_id) for record_id in tablet.replica}


async def test_a_record_the_server_merged_still_reaches_the_pusher(any_server: Harness) -> None:
    grid = any_server.grid()
    first, second = await any_server.tablet(grid), await any_server.tablet(grid)
    created = first.edit(values=household(phone="13812345678"))
    await push_own(first, [created])
    await second.pull_all()
    await first.pull_all()

    # a true conflict: both changed the phone unseen; the second pusher's pull brings the conflict
    await push_own(first, [first.edit(created["record"], values={"phone": "13900001111"})])
    result = (await push_own(second, [second.edit(created["record"], values={"phone": "13700002222"})]))[0]
    assert result["status"] == "conflict"
    pulled = await second.pull_all(skip_own=True)
    assert [envelope["id"] for envelope in pulled] == [created["record"]]
    assert result["conflicts"][0] in pulled[0]["conflicts"]
    # and the first, who pushed the winning value, learns of the conflict too
    assert [envelope["id"] for envelope in await first.pull_all(skip_own=True)] == [created["record"]]

    # a change on top of a version the device had not pulled yet: applied, and the merged record comes back
    await push_own(first, [first.edit(created["record"], values={"notes": "楼上邻居代为转告"})])
    result = (await push_own(second, [second.edit(created["record"], values={"address": "3栋2单元502"})]))[0]
    assert result["status"] == "applied"
    pulled = await second.pull_all(skip_own=True)
    assert [envelope["id"] for envelope in pulled] == [created["record"]]
    assert pulled[0]["fields"]["notes"] == "楼上邻居代为转告" and pulled[0]["fields"]["address"] == "3栋2单元502"
    for tablet in (first, second):
        await tablet.pull_all()
        assert tablet.replica[created["record"]] == any_server.db.get_record(created["record"])


async def test_the_openapi_document_names_the_push_cursor_and_the_415(server: Harness) -> None:
    document = (await server.client().get("/openapi.json")).json()
    push = document["paths"]["/v1/push"]["post"]
    assert "cursor" in {parameter["name"] for parameter in push["parameters"]}
    assert "415" in push["responses"]


@pytest.mark.parametrize("seed", range(6))
async def test_tablets_that_skip_their_own_writes_still_converge(server: Harness, seed: int) -> None:
    """Random edits (same field, other fields, tags, resolutions) by three tablets, each pushed with its cursor
    and pulled at random moments: after a last pull every tablet holds exactly what the server holds."""
    rng = random.Random(seed)
    grid = server.grid()
    tablets = [await server.tablet(grid) for _ in range(3)]
    created = [tablets[0].edit(values=notes(n)) for n in range(4)]
    ids = [change["record"] for change in created]
    await push_own(tablets[0], created)
    for tablet in tablets:
        await tablet.pull_all()
    for _ in range(40):
        tablet = rng.choice(tablets)
        if rng.random() < 0.3:
            await tablet.pull_all(limit=rng.choice((1, 3, 500)), skip_own=True)
            continue
        record_id = rng.choice(ids)
        open_ids = [cid for cid, c in tablet.replica[record_id]["conflicts"].items() if not c.get("resolved")]
        if open_ids and rng.random() < 0.3:
            change = tablet.edit(record_id, resolve=(rng.choice(open_ids),))
        elif rng.random() < 0.3:
            tag = rng.choice("abc")
            present = tablet.replica[record_id]["sets"].get("tags", {}).get(tag, [None, False])[1]
            change = tablet.edit(record_id, sets={"tags": {tag: not present}})
        else:
            field = rng.choice(("phone", "notes"))
            change = tablet.edit(record_id, values={field: f"138{rng.randrange(10**8):08d}"})
        assert (await push_own(tablet, [change]))[0]["status"] != "refused"
    for tablet in tablets:
        await tablet.pull_all(skip_own=True)
    stored = {record_id: server.db.get_record(record_id) for record_id in ids}
    for tablet in tablets:
        assert {record_id: tablet.replica[record_id] for record_id in ids} == stored
    # and what it pushed on top of what it holds does not come back
    await push_own(tablets[0], [tablets[0].edit(ids[0], values={"notes": "最后一次入户"})])
    assert await tablets[0].pull_all(skip_own=True) == []
