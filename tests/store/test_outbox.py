"""Outbox semantics the sync agent relies on, and pulled records merging with unsent local edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_agent.domain.envelope import local_edit, view
from field_agent.domain.hlc import HybridClock
from field_agent.protocol.merge import apply_change
from field_agent.protocol.wire import ChangeResult, Envelope
from field_agent.store import OutboxError, Store

from .conftest import PASSPHRASE


def test_next_batch_is_idempotent_until_acked(store: Store, store_dir: Path) -> None:
    ids = [store.put("household", {"address": f"a{n}"})["id"] for n in range(5)]
    batch_id, changes = store.next_batch(3)
    assert [c["record"] for c in changes] == ids[:3]
    assert store.next_batch(3) == (batch_id, changes)
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:  # the frozen batch is durable
        assert reopened.next_batch(10) == (batch_id, changes)
        assert reopened.pending_count() == 5
        reopened.ack_batch(batch_id, [{"record": rid, "status": "applied"} for rid in ids[:3]])
        assert reopened.pending_count() == 2
        second_id, second = reopened.next_batch(10)
        assert second_id != batch_id
        assert [c["record"] for c in second] == ids[3:]


def test_edits_while_in_flight_go_to_a_new_entry(store: Store) -> None:
    record = store.put("household", {"address": "a", "head": "张三"})
    batch_id, frozen = store.next_batch(10)
    store.put("household", {"head": "张三丰"}, record_id=record["id"])
    assert store.next_batch(10) == (batch_id, frozen)  # the frozen batch did not change
    assert frozen[0]["fields"]["head"]["value"] == "张三"
    store.ack_batch(batch_id, [ChangeResult(record=record["id"], status="applied")])
    _, newer = store.next_batch(10)
    assert newer[0]["fields"]["head"]["value"] == "张三丰"
    assert newer[0]["base"]["head"] == record["stamps"]["head"]


def test_coalescing_keeps_one_change_per_record(store: Store) -> None:
    record = store.put("household", {"address": "a"})
    for n in range(5):
        store.put("household", {"notes": f"n{n}"}, record_id=record["id"])
    assert store.pending_count() == 1
    _, changes = store.next_batch(10)
    assert changes[0]["fields"]["notes"]["value"] == "n4"
    assert changes[0]["base"] == {}  # first edit: the server has never seen the record


def test_refused_changes_move_aside_and_unanswered_ones_return(store: Store) -> None:
    a, b, c = (store.put("household", {"address": x})["id"] for x in "abc")
    batch_id, _ = store.next_batch(10)
    store.put("household", {"notes": "later"}, record_id=c)
    store.ack_batch(
        batch_id,
        [
            {"record": a, "status": "applied"},
            {"record": b, "status": "refused", "code": "forbidden", "reason": "not your grid"},
        ],
    )
    refused = store.refused_changes()
    assert [(r["change"]["record"], r["code"], r["reason"]) for r in refused] == [(b, "forbidden", "not your grid")]
    _, again = store.next_batch(10)
    assert [ch["record"] for ch in again] == [c]
    assert set(again[0]["fields"]) == {"address", "notes"}  # the unanswered change folded with the newer edit
    store.sync.discard_refused(refused[0]["id"])
    assert store.refused_changes() == []


def test_ack_checks_the_batch(store: Store) -> None:
    store.put("household", {"address": "a"})
    store.ack_batch("no-batch-in-flight", [])  # nothing in flight: a retried ack is a no-op
    batch_id, _ = store.next_batch(1)
    with pytest.raises(OutboxError, match="not the batch in flight"):
        store.ack_batch("some-other-batch", [])
    with pytest.raises(OutboxError, match="unknown result status"):
        store.ack_batch(batch_id, [{"record": "x", "status": "maybe"}])
    assert store.next_batch(1)[0] == batch_id
    assert store.next_batch(0) == store.next_batch(1)  # the in-flight batch wins over the limit


def test_apply_pulled_keeps_registers_with_unsent_edits(store: Store) -> None:
    mine = store.put("household", {"address": "a", "head": "张三", "notes": "old"})
    batch_id, _ = store.next_batch(10)
    store.ack_batch(batch_id, [{"record": mine["id"], "status": "applied"}])
    store.put("household", {"head": "张三丰"}, record_id=mine["id"])  # unsent
    other = HybridClock("0000000000ff", now_ms=lambda: 10**13)
    remote, _ = local_edit(
        mine, other, record_id=mine["id"], kind="household", grid="grid-1", values={"head": "李四", "notes": "new"}
    )
    stranger, _ = local_edit(None, other, record_id="r-2", kind="household", grid="grid-1", values={"address": "b"})
    assert store.apply_pulled([remote, Envelope(**stranger)], next_cursor=42) == 2
    assert store.apply_pulled([remote], next_cursor=43) == 0  # seen already: nothing changes
    merged = view(store.get(mine["id"]))
    assert merged["head"] == "张三丰"  # kept: a local edit the server has not seen
    assert merged["notes"] == "new"  # taken: no local edit
    assert store.get("r-2")["fields"] == {"address": "b"}
    assert store.meta_get("cursor") == 43
    assert store.clock.now() > max(remote["stamps"].values())  # the clock moved past every stamp seen
    assert {r["id"] for r in store.search_households("lisi")} == set()
    assert store.search_households("b")[0]["id"] == "r-2"


def test_conflicts_are_listed_and_resolved_by_one_local_edit(store: Store) -> None:
    mine = store.put("household", {"address": "a", "head": "张三"})
    server, _ = apply_change(None, store.next_batch(1)[1][0])
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "applied"}])
    other = HybridClock("0000000000ff", now_ms=lambda: 10**13)
    _, change = local_edit(
        server, other, record_id=mine["id"], kind="household", grid="grid-1", values={"head": "李四"}
    )
    server, _ = apply_change(server, change)
    store.put("household", {"head": "王五"}, record_id=mine["id"])
    server, outcome = apply_change(server, store.next_batch(1)[1][0])
    assert outcome.status == "conflict"
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "conflict"}])
    store.apply_pulled([server], next_cursor=7)
    [(envelope, conflict_id, conflict)] = store.open_conflicts()
    assert envelope["id"] == mine["id"] and conflict["field"] == "head"
    resolved = store.resolve_conflict(mine["id"], conflict_id, choice="mine")
    assert view(resolved)["head"] == "王五"
    assert store.open_conflicts() == []
    _, [change] = store.next_batch(5)
    assert conflict_id in change["resolve"]


def test_edit_versus_delete_conflict_resolved_by_keeping_the_record(store: Store) -> None:
    mine = store.put("household", {"address": "a", "notes": "n"})
    server, _ = apply_change(None, store.next_batch(1)[1][0])
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "applied"}])
    other = HybridClock("0000000000ff")
    other.observe(max(server["stamps"].values()))  # the other device pulled the record before editing it
    _, edit = local_edit(server, other, record_id=mine["id"], kind="household", grid="grid-1", values={"notes": "x"})
    server, _ = apply_change(server, edit)
    store.delete(mine["id"])
    server, outcome = apply_change(server, store.next_batch(1)[1][0])
    assert outcome.status == "conflict"
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "conflict"}])
    store.apply_pulled([server], next_cursor=3)
    [(_, conflict_id, conflict)] = store.open_conflicts()
    assert conflict["type"] == "delete"
    resolved = store.resolve_conflict(mine["id"], conflict_id, choice="theirs")
    assert not resolved["fields"]["_deleted"]
    assert view(resolved)["notes"] == "x"
    assert [r["id"] for r in store.records("household")] == [mine["id"]]
