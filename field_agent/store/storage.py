"""TinyDB's storage on the sealed log: the tables live in memory, and each write is sealed as one delta frame.

``SealedStorage`` is a plain TinyDB ``Storage`` (``read``/``write``); the deltas come from ``TrackingDict``, the
view of one live table that ``field_agent.store.tinydb_seam.DeltaTable`` hands TinyDB's updaters. The storage
seals the changed documents into one frame and fsyncs before the write returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, KeysView, MutableMapping
from contextlib import contextmanager
from typing import Any

from tinydb.storages import Storage

from field_agent.store.compaction import Compaction, Runner, in_thread
from field_agent.store.errors import StoreError
from field_agent.store.log import (
    DELTA,
    SNAPSHOT,
    DeltaOp,
    Tables,
    delta_pieces,
    encode_snapshot,
    pack_body,
    snapshot_pieces,
    snapshot_text_bytes,
)
from field_agent.store.packed import PackedTable
from field_agent.store.writer import LogWriter

MIN_COMPACT_BYTES = 1 << 20


class TrackingDict(MutableMapping[str, Any]):
    """A view of one live table that remembers the packed before-image of every document it hands out or changes.

    A document read through it is unpacked once and the same object handed out again; TinyDB's updaters change it
    in place, and ``settle`` packs whatever was handed out back into the table once the updater is done."""

    __slots__ = ("before", "cleared", "handed", "live", "written")

    def __init__(self, live: PackedTable) -> None:
        self.live = live
        self.before: dict[str, bytes | None] = {}  # the packed document before the write (None: absent)
        self.handed: dict[str, Any] = {}  # documents handed out or written, by id
        self.written: set[str] = set()
        self.cleared = False

    def _remember(self, key: str) -> None:
        if key not in self.before:
            self.before[key] = self.live.blob(key)

    def __getitem__(self, key: str) -> Any:
        value = self.handed.get(key)
        if value is None:
            value = self.live[key]
            self._remember(key)
            self.handed[key] = value
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._remember(key)
        self.live[key] = value
        self.handed[key] = value
        self.written.add(key)

    def __delitem__(self, key: str) -> None:
        self._remember(key)
        del self.live[key]
        self.handed.pop(key, None)
        self.written.discard(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.live)

    def __len__(self) -> int:
        return len(self.live)

    def __contains__(self, key: object) -> bool:
        return key in self.live

    def keys(self) -> KeysView[str]:
        return self.live.keys()

    def clear(self) -> None:
        for key in self.live:
            self._remember(key)
        self.live.clear()
        self.handed.clear()
        self.written.clear()
        self.cleared = True

    def settle(self) -> None:
        """Pack back the documents handed out (an updater may have changed them in place)."""
        live = self.live
        for key, value in self.handed.items():
            if key not in self.written and key in live:
                live[key] = value

    def changes(self) -> tuple[list[str], list[str]]:
        """(ids written, ids deleted) relative to the before-images; the documents stay in the live table."""
        written: list[str] = []
        deletes: list[str] = []
        blobs = self.live.blobs
        for key, before in self.before.items():
            blob = blobs.get(key)
            if blob is None:
                if before is not None and not self.cleared:
                    deletes.append(key)
            elif key in self.written or before is None or self.cleared or blob != before:
                written.append(key)
        if self.cleared:
            seen = set(written)
            written.extend(key for key in blobs if key not in seen)
        return written, deletes

    def delta(self) -> tuple[dict[str, Any], list[str]]:
        """(upserted documents, deleted ids) relative to the before-images."""
        written, deletes = self.changes()
        return {key: self.live[key] for key in written}, deletes

    def release(self) -> None:
        """Drop the documents handed out (the before-images, all that ``undo`` needs, stay)."""
        self.handed = {}

    def undo(self) -> None:
        """Put every touched document back as it was."""
        if self.cleared:
            self.live.clear()
        for key, before in self.before.items():
            self.live.put_blob(key, before)


class SealedStorage(Storage):
    """Tables live in memory; each write (or each outermost ``batch``) becomes one sealed, fsynced frame.

    When the frames after the log's snapshot outgrow it (``appended_bytes`` > ``snapshot_bytes``, both counted from
    the file at open, whichever process wrote it), the save that crossed the line starts a compaction in the
    background (``compaction.py``) and returns; ``close`` finishes one still running."""

    def __init__(self, writer: LogWriter, tables: Tables, snapshot_bytes: int, appended_bytes: int = 0) -> None:
        self.writer = writer
        self._live = tables
        self._depth = 0
        self._ops: dict[str, list[Any]] = {}
        # per table of the batch: (cleared, the first before-image of every document it touched), all a rollback
        # needs (keeping each write's TrackingDict instead cost ~2 KB per save of a 100,000-record import)
        self._undo: dict[str, tuple[bool, dict[str, bytes | None]]] = {}
        self._full_rewrite = False
        self.snapshot_bytes = snapshot_bytes
        self.appended_bytes = appended_bytes
        self.min_compact_bytes = MIN_COMPACT_BYTES
        self.compaction_error: StoreError | None = None
        self.lock: threading.RLock = threading.RLock()  # the store's lock (Store sets it): saves run under it
        self.run_compaction: Runner = in_thread  # tests run the steps themselves
        self.compaction: Compaction | None = None  # the one in progress
        self.rollbacks = 0
        self.closed = False
        self.after_commit: list[Callable[[], None]] = []
        # called under the lock when a snapshot is taken: returns what makes the snapshot's hints for the store's
        # index, as of that moment (the Store sets it; ``indexes.RecordIndex.hint``)
        self.index_hints: Callable[[], Callable[[Tables], dict[str, bytes]]] | None = None
        self.after_rollback: list[Callable[[], None]] = []

    # TinyDB types the database as dicts of dicts; every table here is a PackedTable (a MutableMapping), which is
    # all TinyDB's own code does with them (tests/store/test_tinydb_contract.py)
    def read(self) -> Tables:  # type: ignore[override]
        return self._live

    def table(self, name: str) -> PackedTable:
        """The live table ``name`` (made empty if it does not exist yet)."""
        table = self._live.get(name)
        if table is None:
            table = self._live[name] = PackedTable()
        return table

    def write(self, data: Tables) -> None:  # type: ignore[override]
        """A whole-database write (TinyDB's drop_table paths): sealed as a full snapshot."""
        self._live = {
            name: table if isinstance(table, PackedTable) else PackedTable.of(table) for name, table in data.items()
        }
        self._full_rewrite = True
        if self._depth == 0:
            self._commit()

    def record(self, name: str, tracker: TrackingDict) -> None:
        """Take one table write's delta; seal it now, or at the end of the enclosing batch."""
        written, deletes = tracker.changes()
        tracker.release()
        if not written and not deletes and not tracker.cleared:
            return
        op = self._ops.setdefault(name, [{}, set(), False])
        if tracker.cleared:
            op[:] = [{}, set(), True]
        for key in deletes:
            op[0].pop(key, None)
            op[1].add(key)
        for key in written:  # the ids only: the documents are taken from the live table at the commit
            op[1].discard(key)
            op[0][key] = None
        cleared, before = self._undo.get(name, (False, {}))
        for key, blob in tracker.before.items():
            before.setdefault(key, blob)
        self._undo[name] = (cleared or tracker.cleared, before)
        if self._depth == 0:
            self._commit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside becomes one frame at the end; if the block raises, memory is rolled back."""
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._rollback()
            raise
        self._depth -= 1
        if self._depth == 0:
            self._commit()

    @property
    def in_batch(self) -> bool:
        return self._depth > 0

    def _rollback(self) -> None:
        for name, (cleared, before) in self._undo.items():
            table = self.table(name)
            if cleared:
                table.clear()
            for key, blob in before.items():
                table.put_blob(key, blob)
        self._ops.clear()
        self._undo.clear()
        self._full_rewrite = False
        self.rollbacks += 1
        for hook in self.after_rollback:
            hook()

    def _commit(self) -> None:
        if not self._ops and not self._full_rewrite:
            return
        try:
            if self._full_rewrite:
                kind, body, size = pack_body(SNAPSHOT, snapshot_pieces(self._live))
            else:
                ops: list[DeltaOp] = [(name, list(op[0]), sorted(op[1]), op[2]) for name, op in self._ops.items()]
                kind, body, size = pack_body(DELTA, delta_pieces(ops, self._live))
            self.writer.append(kind, body)
        except BaseException:
            self._rollback()
            raise
        self.appended_bytes += size
        if self.compaction is not None:
            self.compaction.saved.append((kind, body))
            self.compaction.saved_bytes += size
        self._ops.clear()
        self._undo.clear()
        self._full_rewrite = False
        for hook in self.after_commit:
            hook()
        if self.compaction is None and self.appended_bytes > max(self.snapshot_bytes, self.min_compact_bytes):
            self.compaction = Compaction(self)
            self.run_compaction(self.compaction)

    def hints(self) -> Callable[[Tables], dict[str, bytes]] | None:
        """What makes the index's hints for a snapshot of the tables as they are now (None: no index)."""
        return self.index_hints() if self.index_hints is not None else None

    def retrain_dictionaries(self) -> None:
        """Train every table's zstd dictionary again from what it holds now (``PackedTable.retrain``): before the
        compaction that follows an erasure, so that no dictionary written in the new snapshot holds erased values."""
        for table in self._live.values():
            table.retrain()

    def compact(self) -> int:
        """Rewrite the log as one snapshot of the live data (atomically), now; return the new log size."""
        if self._depth:
            raise StoreError("cannot compact inside a batch")
        if self.compaction is not None:
            self.compaction.cancel()
        hints = self.hints()
        body = encode_snapshot(self._live, hints(self._live) if hints is not None else None)
        size = self.writer.compact(body)
        self.compacted(snapshot_text_bytes(body), 0)
        return size

    def finish_compaction(self) -> None:
        """Wait for a background compaction's snapshot to be written, then switch to it (caller holds the lock)."""
        job = self.compaction
        if job is not None:
            job.build()
            job.built.wait()
            job.settle()

    def finished(self, job: Compaction) -> None:
        if self.compaction is job:
            self.compaction = None

    def compacted(self, snapshot_bytes: int, appended_bytes: int) -> None:
        self.snapshot_bytes = snapshot_bytes
        self.appended_bytes = appended_bytes
        self.compaction_error = None

    def close(self) -> None:
        """Finish a compaction still running (a short-lived process compacts too), then close the log."""
        try:
            self.finish_compaction()
        finally:
            self.closed = True
            self.writer.close()
