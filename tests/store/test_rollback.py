"""A change the server refuses is undone on the tablet (from priors kept only locally); the clock after a wrong date."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_agent.domain.hlc import DEFAULT_MAX_FUTURE_MS, HybridClock, stamp_ms, wall_ms
from field_agent.store import Store, StoreWriteFailed
from field_agent.store.store import resume_clock

from .conftest import PASSPHRASE


def _settle(store: Store, status: str = "applied", **extra: str) -> list[dict]:
    batch_id, changes = store.next_batch(100)
    store.ack_batch(batch_id, [{"record": change["record"], "status": status, **extra} for change in changes])
    return changes


def _refuse(store: Store) -> list[dict]:
    return _settle(store, "refused", code="leader_only", reason="only the grid leader may change this")


def test_a_refused_edit_puts_back_the_value_and_stamp_it_replaced(store: Store, store_dir: Path) -> None:
    record = store.put("household", {"address": "幸福路 1 号", "head": "张三"})
    _settle(store)
    store.put("household", {"head": "李四", "notes": "新的备注"}, record_id=record["id"])
    store.put("household", {"head": "王五"}, record_id=record["id"])  # two unsent edits: the first one's prior
    sent = _refuse(store)
    assert sent[0]["fields"]["head"]["value"] == "王五"
    after = store.get(record["id"])
    assert after == record  # head back to 张三 with its old stamp; notes (new in the refused change) gone
    [refused] = store.refused_changes()
    assert refused["code"] == "leader_only" and refused["change"]["fields"]["head"]["value"] == "王五"
    assert store.pending_count() == 0
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:  # the rollback is durable
        assert reopened.get(record["id"]) == record
        assert len(reopened.refused_changes()) == 1


def test_a_later_edit_on_top_of_a_refused_one_stays_pending_on_its_own(store: Store) -> None:
    record = store.put("household", {"address": "幸福路 1 号", "head": "张三", "notes": "旧"})
    _settle(store)
    store.put("household", {"head": "李四", "notes": "被拒"}, record_id=record["id"])
    batch_id, _ = store.next_batch(100)
    later = store.put("household", {"head": "赵六"}, record_id=record["id"])  # while the batch is in flight
    store.ack_batch(batch_id, [{"record": record["id"], "status": "refused", "code": "x", "reason": "no"}])
    current = store.get(record["id"])
    assert current["fields"]["head"] == "赵六" and current["stamps"]["head"] == later["stamps"]["head"]
    assert current["fields"]["notes"] == "旧" and current["stamps"]["notes"] == record["stamps"]["notes"]
    [pending] = store.next_batch(100)[1]
    assert pending["fields"] == {"head": {"value": "赵六", "stamp": later["stamps"]["head"]}}
    # it was made on top of the refused stamp, which the server never saw: its base is what the server has
    assert pending["base"]["head"] == record["stamps"]["head"]
    _refuse(store)  # refusing that one too goes all the way back
    assert store.get(record["id"]) == record


def test_a_refused_new_record_leaves_the_tablet_but_stays_listed(store: Store) -> None:
    kept = store.put("household", {"address": "幸福路 1 号"})
    _settle(store)
    refused = store.put("household", {"address": "别的网格 9 号"})
    _refuse(store)
    assert store.get(refused["id"]) is None
    assert [r["id"] for r in store.records("household")] == [kept["id"]]
    assert store.status()["counts"] == {"household": 1}  # the indexes follow the rollback
    assert store.refused_changes()[0]["change"]["fields"]["address"]["value"] == "别的网格 9 号"


def test_set_elements_and_resolutions_are_put_back(store: Store) -> None:
    record = store.put("household", {"address": "幸福路 1 号", "tags": ["独居"]})
    _settle(store)
    store.put("household", {"tags": ["空巢"]}, record_id=record["id"])
    _refuse(store)
    assert store.get(record["id"]) == record


def test_a_pulled_write_over_a_pending_register_is_what_a_refusal_restores(store: Store) -> None:
    record = store.put("household", {"address": "幸福路 1 号", "head": "张三"})
    _settle(store)
    store.put("household", {"head": "李四"}, record_id=record["id"])
    # the other tablet's edits come after this one's (a second later: stamps in the same millisecond would order by
    # node id, and the test would depend on which node id this store drew)
    other = HybridClock("0123456789ab", now_ms=lambda: wall_ms() + 1_000)
    remote = store.get(record["id"])
    remote["fields"]["head"], remote["stamps"]["head"] = "钱七", other.now()
    remote["fields"]["address"], remote["stamps"]["address"] = "幸福路 2 号", other.now()
    store.apply_pulled([remote], 5)
    assert store.get(record["id"])["fields"]["head"] == "李四"  # the unsent local edit is kept meanwhile
    _refuse(store)
    assert store.get(record["id"]) == remote  # the server's value, not the one from before the local edit


def test_a_failed_freeze_leaves_the_outbox_as_it_was(store: Store) -> None:
    ids = [store.put("household", {"address": f"幸福路 {n} 号"})["id"] for n in range(3)]
    store.storage.writer.broken = "disk full"
    with pytest.raises(StoreWriteFailed):
        store.next_batch(2)
    store.storage.writer.broken = None
    assert store.status()["in_flight"] is False and store.pending_count() == 3
    batch_id, changes = store.next_batch(2)
    assert [change["record"] for change in changes] == ids[:2]
    store.ack_batch(batch_id, [{"record": ids[0], "status": "applied"}])  # the second was not answered
    assert [change["record"] for change in store.next_batch(5)[1]] == [ids[1], ids[2]]


def test_the_clock_restarts_from_the_wall_clock_after_a_date_beyond_the_servers_bound(store_dir: Path) -> None:
    ahead = DEFAULT_MAX_FUTURE_MS + 2 * 86_400_000
    with Store.create(store_dir, PASSPHRASE, grid="g1") as store:
        store.clock = HybridClock(store.node_id, now_ms=lambda: wall_ms() + ahead)
        store.put("household", {"address": "幸福路 1 号"})
        assert stamp_ms(store.meta_get("clock")) > wall_ms() + DEFAULT_MAX_FUTURE_MS
    with Store.open(store_dir, PASSPHRASE) as store:
        assert "clock" in store.open_report and "date" in store.open_report["clock"]
        stamp = store.put("household", {"address": "幸福路 2 号"})["stamps"]["address"]
        assert abs(stamp_ms(stamp) - wall_ms()) < 60_000


def test_a_clock_within_the_bound_resumes_from_its_last_stamp() -> None:
    now = wall_ms()
    within = f"{now + DEFAULT_MAX_FUTURE_MS - 60_000:015d}-00007-0123456789ab"
    clock, note = resume_clock("0123456789ab", within, now)
    assert note is None and clock.now() > within
    beyond = f"{now + DEFAULT_MAX_FUTURE_MS + 60_000:015d}-00007-0123456789ab"
    clock, note = resume_clock("0123456789ab", beyond, now)
    assert note is not None and clock.now() < beyond


def test_an_outbox_written_by_the_previous_version_is_still_sent(tmp_path: Path) -> None:
    """Before priors, pending entries were keyed by record id and the batch in flight held its changes inline."""
    from field_agent.domain.envelope import local_edit
    from field_agent.store.opening import create_directory, open_directory

    clock = HybridClock("0123456789ab")
    made = [
        local_edit(None, clock, record_id=f"r{n}", kind="household", grid="g1", values={"address": str(n)})
        for n in (1, 2)
    ]
    (first, first_change), (second, second_change) = made
    tables = {
        "meta": {"node_id": {"v": "0123456789ab"}, "grid": {"v": "g1"}},
        "records": {"r1": first, "r2": second},
        "pending": {"r1": {"change": first_change}},
        "inflight": {"batch": {"batch_id": "old-batch-1", "changes": [second_change], "frozen_ms": 0}},
    }
    path = tmp_path / "old"
    create_directory(path, PASSPHRASE, "test", tables)
    with Store._from(open_directory(path, PASSPHRASE)) as store:
        assert store.pending_count() == 2
        assert store.next_batch(10) == ("old-batch-1", [second_change])
        store.ack_batch("old-batch-1", [{"record": "r2", "status": "refused", "code": "x", "reason": "no"}])
        assert store.get("r2") == second  # no prior was kept for it: left as it was, listed as refused
        assert len(store.refused_changes()) == 1
        batch_id, changes = store.next_batch(10)
        assert changes == [first_change]
        store.ack_batch(batch_id, [{"record": "r1", "status": "applied"}])
        assert store.pending_count() == 0
