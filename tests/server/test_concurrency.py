"""Concurrent pushes end in exactly the state the merge rules define; pulls never skip a record; both databases
agree on the same scenario."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from field_agent.domain.hlc import HybridClock, wall_ms
from field_agent.domain.ids import new_id

from .harness import Harness, Tablet, household

CLIENTS = 20
RECORDS = 3


async def test_twenty_clients_editing_the_same_records_converge_with_each_conflict_once(any_server: Harness) -> None:
    server = any_server
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    originals = [leader.edit(values=household(f"{n}栋101", notes="原始")) for n in range(RECORDS)]
    await leader.push_ok(originals)
    tablets = [await server.tablet(grid, worker=f"网格员{i}") for i in range(CLIENTS)]
    for tablet in tablets:
        await tablet.pull_all()

    batches = [
        [tablet.edit(o["record"], values={"notes": f"由{i}号改"}, sets={"tags": {f"t{i}": True}}) for o in originals]
        for i, tablet in enumerate(tablets)
    ]
    answers = await asyncio.gather(*(tablet.push_ok(batch) for tablet, batch in zip(tablets, batches, strict=True)))
    # the same batches again, under new batch ids: the merge itself is idempotent
    await asyncio.gather(*(tablet.push_ok(batch) for tablet, batch in zip(tablets, batches, strict=True)))

    for index, original in enumerate(originals):
        record = server.db.get_record(original["record"])
        writes = [batch[index]["fields"]["notes"] for batch in batches]
        winner = max(writes, key=lambda write: write["stamp"])
        assert record["fields"]["notes"] == winner["value"]
        assert record["stamps"]["notes"] == winner["stamp"]
        assert sorted(record["sets"]["tags"]) == sorted(f"t{i}" for i in range(CLIENTS))
        expected_conflicts = {f"notes@{w['stamp']}" for w in writes if w is not winner}
        assert set(record["conflicts"]) == expected_conflicts  # every loser once, nothing else
        statuses = [answer[index]["status"] for answer in answers]
        assert statuses.count("applied") == 1 and statuses.count("conflict") == CLIENTS - 1

    # every replica converges on the server's state
    for tablet in [leader, *tablets[:3]]:
        await tablet.pull_all()
        for original in originals:
            assert tablet.replica[original["record"]] == server.db.get_record(original["record"])


async def test_pull_pages_never_skip_a_record_while_writes_happen(any_server: Harness) -> None:
    server = any_server
    grid = server.grid()
    writers = [await server.tablet(grid, worker=f"写入{i}") for i in range(4)]
    reader = await server.tablet(grid, worker="读取")
    done = asyncio.Event()

    async def write(tablet: Tablet) -> None:
        own: list[str] = []
        for round_number in range(15):
            changes = [tablet.edit(values=household(f"{round_number}栋{n}")) for n in range(5)]
            changes += [tablet.edit(record_id, values={"notes": f"第{round_number}轮"}) for record_id in own[-3:]]
            own += [change["record"] for change in changes[:5]]
            await tablet.push_ok(changes)
            await asyncio.sleep(0)

    async def read() -> list[int]:
        cursors = []
        while not done.is_set():
            await reader.pull_all(limit=7)
            cursors.append(reader.cursor)
            await asyncio.sleep(0.001)
        await reader.pull_all(limit=7)
        return cursors

    reading = asyncio.create_task(read())
    await asyncio.gather(*(write(tablet) for tablet in writers))
    done.set()
    cursors = await reading
    assert cursors == sorted(cursors)
    final = {envelope["id"]: envelope for envelope in server.db.iter_records(grid)}
    assert set(reader.replica) == set(final)
    assert all(reader.replica[record_id] == envelope for record_id, envelope in final.items())
    assert len(final) == 1 + 4 * 15 * 5


def _fixed_clock(node: str, start_ms: int) -> HybridClock:
    ticks = iter(range(start_ms, start_ms + 10_000_000, 7))
    return HybridClock(node, now_ms=lambda: next(ticks))


async def _scenario(server: Harness, base_ms: int) -> dict[str, Any]:
    """A fixed script of edits, conflicts, a delete and refusals; returns everything the server decided."""
    grid = server.grid()
    tablets = []
    for index, node in enumerate(("00000000000a", "00000000000b", "00000000000c")):
        tablet = await server.tablet(
            grid, worker=f"网格员{index}", role="leader" if index == 0 else "worker", node=node
        )
        tablet.clock = _fixed_clock(node, base_ms + index)
        tablets.append(tablet)
    a, b, c = tablets
    for tablet in tablets:
        await tablet.pull_all()
    ids = [f"01900000-0000-7000-8000-{n:012d}" for n in range(6)]
    log: list[Any] = []
    log.append(await a.push_ok([a.edit(i, values=household(f"{n}栋", notes="初始")) for n, i in enumerate(ids)]))
    for tablet in (b, c):
        await tablet.pull_all()
    log.append(await b.push_ok([b.edit(ids[0], values={"notes": "乙"}), b.edit(ids[1], values={"_deleted": True})]))
    log.append(await c.push_ok([c.edit(ids[0], values={"notes": "丙"}), c.edit(ids[1], values={"notes": "丙改"})]))
    log.append(
        await c.push_ok(
            [c.edit(ids[2], sets={"tags": {"独居": True}}), c.edit(grid, kind="grid", values={"mode": "wartime"})]
        )
    )
    log.append(
        await a.push_ok([a.edit(grid, kind="grid", values={"mode": "wartime"}), a.edit(ids[3], values={"notes": 5})])
    )
    await a.pull_all()
    conflict = next(iter(a.replica[ids[0]]["conflicts"]))
    log.append(await a.push_ok([a.edit(ids[0], resolve=(conflict,))]))
    records = sorted(server.db.iter_records(grid), key=lambda envelope: envelope["id"])
    for envelope in records:  # the grid id and the office's stamps differ between runs; the rest must not
        envelope["id"] = "GRID" if envelope["id"] == grid else envelope["id"]
        envelope["grid"] = "GRID"
        if envelope["kind"] == "grid":
            envelope["stamps"] = {k: v for k, v in envelope["stamps"].items() if k == "mode"}
            envelope["fields"] = {k: v for k, v in envelope["fields"].items() if k == "mode"}
    for answer in log:
        for result in answer:
            result["record"] = "GRID" if result["record"] == grid else result["record"]
    pulled = [(e["id"] if e["id"] != grid else "GRID") for e in await (await server.tablet(grid)).pull_all(limit=2)]
    return {"records": records, "answers": log, "pull_order": pulled}


@pytest.mark.postgres
async def test_sqlite_and_postgresql_decide_the_same_scenario_identically(sqlite_url: str, pg_url: str) -> None:
    outcomes = []
    base_ms = wall_ms() + 3_600_000  # ahead of the office's stamps, so the tablets' clocks alone decide
    for url in (sqlite_url, pg_url):
        harness = Harness(url)
        try:
            outcomes.append(await _scenario(harness, base_ms))
        finally:
            await harness.close()
    sqlite_outcome, postgres_outcome = outcomes
    assert sqlite_outcome == postgres_outcome
    statuses = [[r["status"] for r in answer] for answer in sqlite_outcome["answers"]]
    assert statuses == [
        ["applied"] * 6,
        ["applied", "applied"],
        ["conflict", "conflict"],
        ["applied", "refused"],
        ["applied", "refused"],
        ["applied"],
    ]
    assert new_id()  # ids in the scenario are fixed; new ones are still UUIDv7
