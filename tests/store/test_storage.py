"""TinyDB's document API over the sealed storage: every write is a delta frame, and survives a reopen."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from tinydb import Query
from tinydb.table import Document

from field_agent.store import Store, StoreWriteFailed

from .conftest import PASSPHRASE


def test_tinydb_api_round_trips(store: Store, store_dir: Path) -> None:
    table = store.db.table("notes")
    first = table.insert({"topic": "patrol", "n": 1})
    table.insert_multiple([{"topic": "delivery", "n": n} for n in range(2, 5)])
    table.update({"done": True}, Query().n >= 3)
    table.remove(Query().n == 4)
    table.upsert(Document({"topic": "sampling", "n": 9}, doc_id="fixed-id"))
    assert isinstance(first, str) and len(first) == 36  # UUIDv7 document ids
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        table = reopened.db.table("notes")
        assert sorted(doc["n"] for doc in table.all()) == [1, 2, 3, 9]
        assert table.get(doc_id="fixed-id")["topic"] == "sampling"
        assert [doc["n"] for doc in table.search(Query().done == True)] == [3]  # noqa: E712
        table.truncate()
    with Store.open(store_dir, PASSPHRASE) as again:
        assert again.db.table("notes").all() == []


def test_a_write_is_one_small_frame(store: Store) -> None:
    table = store.db.table("bulk")
    table.insert_multiple({"n": n, "text": "x" * 500} for n in range(500))
    size = store.storage.writer.size
    first = table.get(Query().n == 0)
    assert first is not None
    table.update({"n": -1}, doc_ids=[first.doc_id])
    assert store.storage.writer.size - size < 1000  # the delta, not the table


def test_failed_updater_changes_nothing(store: Store) -> None:
    table = store.db.table("t")
    table.insert(Document({"a": 1}, doc_id="x"))
    frames = store.storage.writer.frames
    with pytest.raises(ValueError, match="already exists"):
        table.insert(Document({"a": 2}, doc_id="x"))
    assert table.get(doc_id="x") == {"a": 1}
    assert store.storage.writer.frames == frames


def test_disk_error_keeps_memory_and_disk_in_step(
    store: Store, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = store.put("household", {"address": "kept"})
    size = store.storage.writer.size

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdatasync", disk_full)
    with pytest.raises(StoreWriteFailed, match="No space left"):
        store.put("household", {"address": "lost"})
    monkeypatch.undo()
    assert [r["id"] for r in store.records("household")] == [kept["id"]]
    assert store.pending_count() == 1
    assert (store_dir / "store.log").stat().st_size == size
    store.put("household", {"address": "after the disk was freed"})
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert len(reopened.records("household")) == 2
        assert reopened.open_report is None


def test_large_frames_are_compressed_and_read_back(store: Store, store_dir: Path) -> None:
    table = store.db.table("bulk")
    docs = [{"n": n, "text": "重复的文字" * 40} for n in range(400)]
    before = store.storage.writer.size
    table.insert_multiple(docs)
    assert store.storage.writer.size - before < 100_000  # ~240 KB of JSON, sealed compressed
    store.compact()
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert sorted(doc["n"] for doc in reopened.db.table("bulk").all()) == list(range(400))
