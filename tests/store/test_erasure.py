"""Erasure markers in the store, as the sync agent hands them over: a record erased while its change is in flight
waits for the batch's answer; an erasure whose compaction was cut off is compacted on the next open."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from field_agent.store import Store
from field_agent.store.log import frame_text, scan_log
from field_agent.store.opening import open_directory

from .conftest import PASSPHRASE

NEEDS = "需要胰岛素注射笔两支"


def frames_with(store_dir: Path, needle: str) -> list[int]:
    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        scan = scan_log(store_dir / "store.log", unlocked.header.store_id, unlocked.data_key)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()
    return [frame.seq for frame in scan.frames if needle.encode() in frame.body + frame_text(frame)]


def marker(record_id: str, kind: str = "followup") -> dict[str, object]:
    return {"id": record_id, "kind": kind, "grid": "grid-1", "seq": 99, "purged_ms": int(time.time() * 1000)}


def followup(store: Store) -> str:
    values = {"resident": "0193a1b2-0000-7000-8000-000000000001", "date": "2026-10-25", "needs": NEEDS,
              "contact_made": True, "by": "林芳"}  # fmt: skip
    return str(store.put("followup", values)["id"])


def test_an_erasure_waits_for_the_batch_in_flight_then_leaves_nothing(store: Store, store_dir: Path) -> None:
    record_id = followup(store)
    batch_id, changes = store.next_batch(10)
    assert [change["record"] for change in changes] == [record_id]

    store.apply_pulled([], 5, purged=[marker(record_id)])
    assert store.get(record_id) is not None  # the batch in flight must be resent unchanged
    assert store.next_batch(10) == (batch_id, changes)

    store.ack_batch(batch_id, [{"record": record_id, "status": "refused", "code": "purged", "reason": "erased"}])
    store.apply_pulled([], 5)  # the next pull applies the waiting marker
    assert store.get(record_id) is None
    assert store.refused_changes() == [] and store.pending_count() == 0
    assert store.take_erasure_counts().erased == 1
    assert store.compact_if_erased() is True
    store.close()
    assert frames_with(store_dir, NEEDS) == []


def test_an_erasure_cut_off_before_its_compaction_is_compacted_on_the_next_open(store: Store, store_dir: Path) -> None:
    record_id = followup(store)
    store.apply_pulled([], 7, purged=[marker(record_id)])
    store.close()  # the process stopped before the sync agent compacted
    assert frames_with(store_dir, NEEDS)

    reopened = Store.open(store_dir, PASSPHRASE)
    try:
        assert reopened.get(record_id) is None and reopened.meta_get("cursor") == 7
        assert reopened.meta_get("erasures")["count"] == 1
    finally:
        reopened.close()
    assert frames_with(store_dir, NEEDS) == []


def test_cleared_health_answers_take_the_servers_stamp_and_drop_older_unsent_writes(store: Store) -> None:
    household = store.put("household", {"address": "东门社区3栋1单元301"})["id"]
    resident = "0193a1b2-0000-7000-8000-000000000002"
    visit = store.put(
        "visit",
        {"household": household, "visited_at": "2026-10-26T10:00:00+08:00", "worker": "林芳", "outcome": "met",
         "residents_seen": [resident], "health": {resident: {"fever": True, "cough": False, "other": NEEDS}}},
    )["id"]  # fmt: skip
    stamp = store.get(visit)["stamps"]["health"]
    server_stamp = f"{int(stamp[:15]) + 1000:015d}-00000-0123456789ab"
    store.apply_pulled([], 3, purged=[{**marker(visit, "visit"), "fields": {"health": server_stamp}}])
    cleared = store.get(visit)
    assert cleared["fields"]["health"] is None and cleared["stamps"]["health"] == server_stamp
    assert cleared["fields"]["outcome"] == "met"  # the visit itself stays
    pending = store.next_batch(10)
    assert pending is not None
    assert all("health" not in change["fields"] for change in pending[1])
    assert NEEDS not in str(store.outbox.pending.all())  # not even as a prior


def test_a_compaction_that_fails_is_retried_and_the_store_still_opens(
    store: Store, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from field_agent.store.errors import StoreWriteFailed
    from field_agent.store.storage import SealedStorage

    record_id = followup(store)
    store.apply_pulled([], 7, purged=[marker(record_id)])
    store.close()

    def disk_full(self: SealedStorage) -> int:
        raise StoreWriteFailed(store_dir / "store.log", "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(SealedStorage, "compact", disk_full)
        opened = Store.open(store_dir, PASSPHRASE)  # opens although the compaction failed
        assert opened.get(record_id) is None
        opened.close()
    assert frames_with(store_dir, NEEDS)  # not compacted yet, and still due

    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.compact_if_erased() is False  # done on open this time
    assert frames_with(store_dir, NEEDS) == []


def snapshot_dictionaries(store_dir: Path) -> list[bytes]:
    """The zstd dictionaries written in the log's snapshot frames (one per trained table)."""
    from field_agent.store.log import SNAPSHOT_MAGIC, decode_snapshot

    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        scan = scan_log(store_dir / "store.log", unlocked.header.store_id, unlocked.data_key)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()
    tables = [t for f in scan.frames if f.body[:4] == SNAPSHOT_MAGIC for t in decode_snapshot(f.body).values()]
    return [table.packer.dictionary for table in tables if table.packer.dictionary]


@pytest.mark.parametrize("kept", [2_000, 50])
def test_an_erased_value_does_not_stay_in_the_tables_compression_dictionary(
    store: Store, store_dir: Path, kept: int
) -> None:
    """A table of 2,000 documents or more is packed with a zstd dictionary trained on its documents, and a trained
    dictionary is cut from them: a health answer that many follow-ups repeat is in it. After the erasure no frame,
    dictionary included, holds it; the table keeps (or, below the training size, drops) a dictionary of what stays."""
    stamp = "001796442329133-00000-0123456789ab"

    def envelope(number: int, kind: str, fields: dict[str, object]) -> dict[str, object]:
        record_id = f"0193a1b2-0000-7000-8000-{number:012d}"
        stamps = dict.fromkeys(fields, stamp)
        return {"id": record_id, "kind": kind, "grid": "grid-1", "fields": fields, "stamps": stamps, "sets": {},
                "conflicts": {}}  # fmt: skip

    households = [envelope(n, "household", {"address": f"东门社区{n // 40 + 1}栋{n % 40}室"}) for n in range(kept)]
    resident = "0193a1b2-0000-7000-8000-999999999999"
    followups = [
        envelope(10_000 + n, "followup", {"resident": resident, "date": "2026-10-25", "needs": NEEDS, "by": "林芳"})
        for n in range(2_000)
    ]
    store.apply_pulled(followups + households, 1)  # the dictionary is trained at the 2,000th document
    store.compact()
    store.close()
    assert any(NEEDS.encode() in dictionary for dictionary in snapshot_dictionaries(store_dir))

    with Store.open(store_dir, PASSPHRASE) as opened:
        opened.apply_pulled([], 2, purged=[marker(str(f["id"])) for f in followups])
        assert opened.take_erasure_counts().erased == len(followups)
        assert opened.compact_if_erased() is True
        assert len(opened.records("household")) == kept
    assert frames_with(store_dir, NEEDS) == []
    assert bool(snapshot_dictionaries(store_dir)) is (kept >= 2_000)
    with Store.open(store_dir, PASSPHRASE) as reopened:  # and what stays reads back
        assert len(reopened.records("household")) == kept and reopened.records("followup") == []
