"""A day's work over a slow, far link that drops the connection mid-push: it completes in the same run, resumes
after the batches the server already acknowledged, and the tablets converge with nothing lost or duplicated."""

from __future__ import annotations

import random
from pathlib import Path

from bench.shaper import Cut, Link, Shaper
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent, SyncProgress

from .harness import FAST_RETRY, Town, enrolled, replica, server_state, sync

LINK = Link(rate_bps=256_000, rtt_s=0.1)  # modest, so the test stays quick; the bench uses 64 kbit/s and 400 ms
EDITS = 60


async def day_of_work(town: Town, tmp_path: Path, label: str, plan_cut_at: int | None) -> tuple[Shaper, Store, str]:
    """Two tablets of one grid share 2 x EDITS households; each edits its own half; the writer then syncs
    through the shaped link (cut once, ``plan_cut_at`` bytes up, if given) and the colleague directly."""
    grid = town.new_grid(label)
    writer = await enrolled(town, grid, tmp_path, f"{label}-writer")
    colleague = await enrolled(town, grid, tmp_path, f"{label}-colleague")
    rng = random.Random(7)
    ids = [writer.put("household", {"address": f"{n}号", "notes": "first visit"})["id"] for n in range(2 * EDITS)]
    await sync(writer)
    await sync(colleague)
    for record_id in ids[EDITS:]:
        colleague.put("household", {"notes": f"colleague {rng.randrange(10**9)}"}, record_id=record_id)
    await sync(colleague)
    for record_id in ids[:EDITS]:
        writer.put("household", {"notes": f"writer {rng.randrange(10**9)}"}, record_id=record_id)

    def plan(number: int) -> Cut | None:
        return Cut("up", plan_cut_at) if plan_cut_at is not None and number == 1 else None

    proxy = Shaper("127.0.0.1", town.port, LINK, plan=plan)
    url = await proxy.start()
    retries: list[SyncProgress] = []
    try:
        agent = SyncAgent(writer, server_url=url, retry=FAST_RETRY, batch_size=10, page_size=10)
        result = await agent.sync(on_progress=lambda event: retries.append(event) if event.phase == "retry" else None)
    finally:
        await proxy.stop()
    assert result.error is None, result.error
    assert (result.pushed, result.pulled) == (EDITS, EDITS)
    assert len(retries) == len(proxy.fired)
    await sync(colleague)
    state = server_state(town, grid)
    households = {rid: e for rid, e in state.items() if e["kind"] == "household"}
    assert len(households) == 2 * EDITS and not any(e["conflicts"] for e in households.values())
    assert [households[rid]["fields"]["notes"].split()[0] for rid in ids] == ["writer"] * EDITS + ["colleague"] * EDITS
    assert replica(writer) == state == replica(colleague)
    assert writer.pending_count() == colleague.pending_count() == 0
    writer.close()
    colleague.close()
    return proxy, writer, grid


async def test_a_cut_day_of_work_completes_resumes_and_converges(town: Town, tmp_path: Path) -> None:
    clean, _, _ = await day_of_work(town, tmp_path, "clean", None)
    assert clean.fired == []
    cut_at = clean.sent * 3 // 5  # inside the push, after some of its batches were acknowledged
    cut, _, _ = await day_of_work(town, tmp_path, "cut", cut_at)
    assert [(fired.direction, fired.at) for fired in cut.fired] == [("up", cut_at)]
    assert cut.connections >= 2
    # resumed where it stopped: what went up after the cut is far less than starting the push over would send
    assert cut.sent - cut_at < clean.sent * 3 // 4, (cut.sent, cut_at, clean.sent)
