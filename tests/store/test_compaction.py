"""Compaction never makes a save wait, and it follows the log file's own garbage, whichever process made it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from field_agent.store import Store, writer

if TYPE_CHECKING:
    from field_agent.store.compaction import Compaction

from .conftest import PASSPHRASE


class GatedOS:
    """``os`` for the log writer, whose first ``fsync`` (the new log file's, in a compaction) waits for ``gate``;
    saves use ``fdatasync`` and pass."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def fsync(self, fd: int) -> None:
        if not self.waiting.is_set():
            self.waiting.set()
            self.gate.wait()
        os.fsync(fd)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def test_saves_go_on_while_a_compaction_is_being_written(
    store: Store, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save that crosses the threshold starts the compaction and returns; while the new log is still being
    written (held here at its fsync), every later save returns too, and all of them are in the log it switches to."""
    gated = GatedOS()
    monkeypatch.setattr(writer, "os", gated)
    store.storage.min_compact_bytes = 4096
    generation = store.storage.writer.generation
    saved: list[str] = []
    finished = threading.Event()

    def saves() -> None:
        for number in range(60):
            saved.append(store.put("household", {"address": f"幸福路 {number} 号", "notes": "记录" * 40})["id"])
        finished.set()

    worker = threading.Thread(target=saves, daemon=True)
    worker.start()
    try:
        assert gated.waiting.wait(30), "no compaction started"
        assert finished.wait(30), "a save waited for the compaction"
        assert store.storage.writer.generation == generation  # the new log is not in place yet
    finally:
        gated.gate.set()
        worker.join()
    store.close()
    assert store.storage.writer.generation > generation  # close finished it
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert {record["id"] for record in reopened.records("household")} == set(saved)
        assert reopened.pending_count() == 60
        assert reopened.open_report is None


def test_short_lived_processes_compact_a_log_that_many_of_them_grew(store: Store, store_dir: Path) -> None:
    """Each open edits a little (as one CLI command does) and none of them alone writes as much as the snapshot
    holds; together they do, and the open that finds the log bloated compacts it, by its close at the latest."""
    store.storage.min_compact_bytes = 4096
    ids = [store.put("household", {"address": f"幸福路 {n} 号", "notes": "记录" * 60})["id"] for n in range(60)]
    store.compact()
    store.close()
    snapshot = (store_dir / "store.log").stat().st_size
    sizes = []
    for run in range(12):
        with Store.open(store_dir, PASSPHRASE) as opened:
            opened.storage.min_compact_bytes = 4096
            for record_id in ids[:10]:
                opened.put("household", {"notes": f"第 {run} 次走访" * 40}, record_id=record_id)
        sizes.append((store_dir / "store.log").stat().st_size)
    assert any(later < earlier for earlier, later in zip([snapshot, *sizes], sizes, strict=False)), sizes
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.get(ids[0])["fields"]["notes"] == "第 11 次走访" * 40
        assert len(reopened.records("household")) == 60


def test_a_batch_rolled_back_during_a_compaction_abandons_it(store: Store, store_dir: Path) -> None:
    """A change made in place and rolled back while the snapshot is being taken is in no frame: the compaction is
    dropped rather than keep it, and the log (and the data) stay as they were."""
    notes = store.db.table("notes")
    doc_id = notes.insert({"x": 1})
    started: list[Compaction] = []
    store.storage.run_compaction = started.append
    store.storage.min_compact_bytes = 0
    store.put("household", {"address": "幸福路 1 号"})
    (job,) = started
    generation = store.storage.writer.generation
    with pytest.raises(RuntimeError), store.batch():
        notes.update({"x": 2}, doc_ids=[doc_id])
        raise RuntimeError("import failed half-way")
    job.build()
    with store.storage.lock:
        job.settle()
    assert store.storage.writer.generation == generation
    assert not (store_dir / "store.log.next").exists()
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.db.table("notes").get(doc_id=doc_id) == {"x": 1}


def test_an_explicit_compaction_replaces_one_running_in_the_background(store: Store, store_dir: Path) -> None:
    started: list[Compaction] = []
    store.storage.run_compaction = started.append
    store.storage.min_compact_bytes = 0
    first = store.put("household", {"address": "幸福路 1 号"})
    (job,) = started
    second = store.put("household", {"address": "幸福路 2 号"})
    generation = store.storage.writer.generation
    store.compact()  # as an erasure does: now, and without anything the background snapshot held
    assert store.storage.writer.generation == generation + 1
    assert job.done and job.cancelled
    assert not (store_dir / "store.log.next").exists()
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert {r["id"] for r in reopened.records("household")} == {first["id"], second["id"]}


def test_the_snapshot_built_in_steps_reads_back_as_one_snapshot_frame() -> None:
    import secrets

    from field_agent.store.log import (
        FILE_HEADER_SIZE,
        SNAPSHOT,
        FrameFinder,
        decode_snapshot,
        encode_snapshot,
        file_header,
        plain_tables,
    )
    from field_agent.store.packed import PackedTable
    from field_agent.store.snapshot import seal_pieces, snapshot_pieces

    plain = {"records": {str(n): {"a": "记录" * (n % 50), "n": n} for n in range(2500)}, "meta": {"m": {}}, "e": {}}
    tables = {name: PackedTable.of(table) for name, table in plain.items()}
    assert tables["records"].packer.dictionary  # 2,500 documents: packed with a dictionary trained on them
    pieces = list(snapshot_pieces(tables))
    assert b"".join(pieces) == encode_snapshot(tables)
    key, store_id = secrets.token_bytes(32), secrets.token_bytes(16)
    frame = b"".join(seal_pieces(key, store_id, 3, 0, SNAPSHOT, pieces))
    opened = FrameFinder(file_header(store_id, 3) + frame, store_id, 3, key).open(
        FILE_HEADER_SIZE, 0, int.from_bytes(frame[:4], "big")
    )
    assert opened is not None and opened.kind == SNAPSHOT
    assert plain_tables(decode_snapshot(opened.body)) == plain
