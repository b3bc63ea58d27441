"""Connections cut at random bytes of pushes and pulls: every tablet and the server still converge, nothing lost
or duplicated."""

from __future__ import annotations

import random
from pathlib import Path

from field_agent.store import Store
from field_agent.sync.agent import SyncAgent

from .faultproxy import FaultProxy, random_plan
from .harness import FAST_RETRY, Town, enrolled, replica, server_state, sync

MIN_CUTS = 100


async def sync_through_cuts(store: Store, url: str) -> None:
    for _ in range(100):
        result = await SyncAgent(store, server_url=url, retry=FAST_RETRY, batch_size=20, page_size=20).sync()
        if result.error is None:
            return
        assert result.error_kind == "offline", result.error
    raise AssertionError("a tablet never got through the faulty network")


async def test_cuts_at_random_bytes_lose_and_duplicate_nothing(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid()
    # offsets within the messages as they travel: compressed batches of 20 and pages of 20 are 0.3-3 kB
    proxy = FaultProxy("127.0.0.1", town.port, random_plan(random.Random(20261130), 0.9, 2_000))
    url = await proxy.start()
    tablets = [await enrolled(town, grid, tmp_path, name) for name in ("a", "b")]
    expected: dict[str, dict[str, str]] = {}
    round_number = 0
    while len(proxy.fired) < MIN_CUTS or round_number < 3:
        round_number += 1
        assert round_number <= 60, f"only {len(proxy.fired)} cuts fired"
        for index, tablet in enumerate(tablets):
            for n in range(15):
                address = f"{index}-{round_number}-{n}号"
                record = tablet.put("household", {"address": address, "notes": "first visit"})["id"]
                expected[record] = {"address": address, "notes": "first visit"}
            own = [rid for rid, values in expected.items() if values["address"].startswith(f"{index}-")]
            for record in random.Random(round_number).sample(own, min(5, len(own))):
                if tablet.get(record) is not None:
                    note = f"round {round_number}"
                    tablet.put("household", {"notes": note}, record_id=record)
                    expected[record]["notes"] = note
        for tablet in tablets:
            await sync_through_cuts(tablet, url)
    await proxy.stop()
    for tablet in tablets:
        await sync(tablet)

    state = server_state(town, grid)
    households = {rid: e for rid, e in state.items() if e["kind"] == "household"}
    assert {rid: {k: e["fields"][k] for k in ("address", "notes")} for rid, e in households.items()} == expected
    assert not any(e["conflicts"] for e in households.values())
    for tablet in tablets:
        assert replica(tablet) == state
        assert tablet.pending_count() == 0 and tablet.refused_changes() == []
    cut_requests = {(cut.request, cut.direction) for cut in proxy.fired}
    assert {("push", "up"), ("push", "down"), ("pull", "up"), ("pull", "down")} <= cut_requests
