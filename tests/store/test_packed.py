"""The store's tables packed in memory (field_agent/store/packed.py), the packed snapshot and the index's hint."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from field_agent.domain.envelope import local_edit, view
from field_agent.domain.hlc import HybridClock
from field_agent.domain.idnumber import make_id_number
from field_agent.protocol.merge import apply_change
from field_agent.store import Store
from field_agent.store.indexes import RecordIndex
from field_agent.store.log import decode_snapshot, encode_snapshot, plain_tables, scan_log
from field_agent.store.opening import open_directory
from field_agent.store.packed import TRAIN_AT, PackedTable

from .conftest import PASSPHRASE


def varied(n: int) -> dict[str, Any]:
    return {"name": f"居民{n}", "notes": f"第{n}户，{n * 7919 % 1000}号楼，电话尾号{n * 31 % 10000:04d}", "n": n}


def test_a_packed_table_hands_out_fresh_copies_and_trains_a_dictionary_once_it_is_big() -> None:
    table = PackedTable()
    for n in range(TRAIN_AT - 1):
        table[str(n)] = varied(n)
    assert table.packer.dictionary is None and all(blob[:1] == b"{" for blob in table.blobs.values())
    table[str(TRAIN_AT)] = varied(TRAIN_AT)
    assert table.packer.dictionary  # trained on the table's own documents; everything packed again with it
    assert all(blob[:1] != b"{" for blob in table.blobs.values())
    copy = table["7"]
    copy["name"] = "changed"
    assert table["7"] == varied(7)  # a read is a copy: changing it changes nothing
    text = sum(len(orjson.dumps(varied(n))) for n in range(100))
    packed = sum(len(table.blobs[str(n)]) for n in range(100))
    assert packed * 2 < text
    # each blob is allocated at its own size (zstd's worst-case output buffer is not kept)
    assert all(sys.getsizeof(table.blobs[str(n)]) < len(table.blobs[str(n)]) + 64 for n in range(100))
    assert dict(table.items()) == {key: table[key] for key in table}


def test_a_packed_snapshot_round_trips_with_its_dictionary_and_hint() -> None:
    records = PackedTable.of({str(n): varied(n) for n in range(TRAIN_AT + 10)})
    tables = {"records": records, "meta": PackedTable.of({"node_id": {"v": "abc"}}), "empty": PackedTable()}
    body = encode_snapshot(tables, {"records": b'{"1":["resident",false,[],[],false]}'})
    back = decode_snapshot(body)
    assert plain_tables(back) == plain_tables(tables)
    assert back["records"].packer.dictionary == records.packer.dictionary
    assert back["records"].blobs == records.blobs  # taken as they were packed, not packed again
    assert back["records"].hint == b'{"1":["resident",false,[],[],false]}' and back["meta"].hint is None
    # an earlier version's snapshot (one orjson value) still reads
    assert plain_tables(decode_snapshot(orjson.dumps(plain_tables(tables)))) == plain_tables(tables)


def index_state(index: RecordIndex) -> dict[str, Any]:
    return {
        "by_kind": {kind: ids for kind, ids in index.by_kind.items() if ids},
        "deleted": index.deleted,
        "conflicted": index.conflicted,
        "refs": {key: {value: ids for value, ids in bucket.items() if ids} for key, bucket in index.refs.items()},
        "groups": {group: ids for group, ids in index.groups.items() if ids},
        "indexed": index._indexed,
    }


def fresh_index(store_dir: Path) -> dict[str, Any]:
    """The index built by unpacking every record (no hint), for the same files."""
    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        records = unlocked.tables["records"]
        records.take_hint()
        index = RecordIndex()
        index.rebuild(records)
        return index_state(index)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()


def make_conflict(store: Store) -> str:
    mine = store.put("household", {"address": "a", "head": "张三"})
    server, _ = apply_change(None, store.next_batch(1)[1][0])
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "applied"}])
    other = HybridClock("0000000000ff", now_ms=lambda: 10**13)
    _, change = local_edit(server, other, record_id=mine["id"], kind="household", grid="grid-1", values={"head": "李"})
    server, _ = apply_change(server, change)
    store.put("household", {"head": "王五"}, record_id=mine["id"])
    server, outcome = apply_change(server, store.next_batch(1)[1][0])
    assert outcome.status == "conflict"
    store.ack_batch(store.next_batch(1)[0], [{"record": mine["id"], "status": "conflict"}])
    store.apply_pulled([server], next_cursor=7)
    assert store.open_conflicts()
    return str(mine["id"])


def test_an_open_from_the_snapshots_hint_builds_the_same_index_as_unpacking_every_record(
    store: Store, store_dir: Path
) -> None:
    conflicted = make_conflict(store)
    households = [store.put("household", {"address": f"{n}号", "building": f"{n % 4}栋"})["id"] for n in range(30)]
    with store.batch():
        for n in range(TRAIN_AT):
            store.put(
                "resident",
                {
                    "name": f"居民{n}",
                    "household": households[n % 30],
                    "id_number": make_id_number(
                        "350181", date(1950 + n % 60, 1 + n % 12, 1 + n % 28), n % 500, "female"
                    ),
                    "residency": "resident",
                    "special_groups": ["chronic"] if n % 3 else [],
                },
            )
    gone = store.put("household", {"address": "拆迁"})["id"]
    store.delete(gone)
    store.compact()  # the snapshot carries the hint
    later = store.put("household", {"address": "新", "building": "9栋"})["id"]  # a delta after it
    store.put("household", {"building": "8栋"}, record_id=households[0])
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.storage.read()["records"].hint is None  # taken by the index
        state = index_state(reopened.index)
        assert conflicted in state["conflicted"] and gone in state["deleted"]
        assert reopened.index.referencing("household", "building", "9栋") == {later}
        assert households[0] in reopened.index.referencing("household", "building", "8栋")
        assert len(reopened.index.groups["chronic"]) == sum(1 for n in range(TRAIN_AT) if n % 3)
    assert state == fresh_index(store_dir)


def test_a_damaged_hint_is_not_trusted(store: Store, store_dir: Path) -> None:
    ids = [store.put("household", {"address": f"{n}号", "building": "1栋"})["id"] for n in range(5)]
    store.compact()
    store.close()
    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        records = unlocked.tables["records"]
        assert records.hint is not None
        records.hint = b"not json"
        index = RecordIndex()
        index.rebuild(records)
        assert index.referencing("household", "building", "1栋") == set(ids)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()


def test_a_rolled_back_batch_puts_every_document_back_as_it_was(store: Store) -> None:
    kept = store.put("household", {"address": "旧址"})
    with pytest.raises(RuntimeError), store.batch():
        store.put("household", {"address": "新址"}, record_id=kept["id"])
        store.put("household", {"address": "又改"}, record_id=kept["id"])
        store.put("household", {"address": "新户"})
        store.delete(kept["id"])
        raise RuntimeError("stop")
    assert view(store.get(kept["id"]))["address"] == "旧址"
    assert [view(h)["address"] for h in store.records("household")] == ["旧址"]


def test_every_frame_of_a_compacted_store_is_the_packed_form(store: Store, store_dir: Path) -> None:
    with store.batch():
        for n in range(50):
            store.put("household", {"address": f"{n}号"})
    store.compact()
    store.put("household", {"address": "末"})
    store.close()
    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        scan = scan_log(store_dir / "store.log", unlocked.header.store_id, unlocked.data_key)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()
    assert [frame.body[:4] for frame in scan.frames] == [b"FAS2", b"FAD2"]


def test_the_projection_today_reads_follows_every_save(store: Store) -> None:
    household = store.put("household", {"address": "1号"})["id"]
    resident = store.put(
        "resident",
        {
            "name": "王芳",
            "household": household,
            "id_number": make_id_number("350181", date(1950, 3, 4), 12, "female"),
            "residency": "resident",
        },
    )["id"]
    [(_, fields)] = store.index.projection("resident", [resident])
    assert fields["residency"] == "resident" and fields["isolation_status"] is None
    store.put("resident", {"isolation_status": "home", "isolation_start": "2026-12-01"}, record_id=resident)
    [(_, fields)] = store.index.projection("resident", [resident])
    assert (fields["isolation_status"], fields["isolation_start"]) == ("home", "2026-12-01")
    store.delete(resident)
    assert list(store.index.projection("resident", [resident])) == []
