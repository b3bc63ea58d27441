"""The encrypted local store: records as envelopes, every local edit stamped and queued for sync.

Tables inside the sealed log: ``records`` (envelopes by id), ``pending``/``inflight``/``refused`` (the outbox)
and ``meta`` (node id, grid, clock, sync cursor, device credentials, settings). Each public write is one durable
frame; ``batch()`` folds many into one.

``Store`` is a facade: opening builds the shared pieces (``core.StoreCore``: lock, log, tables, outbox, clock,
index) and the parts that work on them (``editing.Editor``, ``conflicts.Conflicts``, ``sync_state.SyncSide``,
``repositories.Repositories``, ``reader.StoreReader``); no part imports this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from field_agent.domain.envelope import view
from field_agent.domain.hlc import DEFAULT_MAX_FUTURE_MS, HybridClock, stamp_ms, wall_ms
from field_agent.domain.ids import new_node_id
from field_agent.domain.town import TownConfig, TownHistory
from field_agent.store.conflicts import Conflicts, OpenConflict
from field_agent.store.core import StoreCore, copy_value
from field_agent.store.editing import Editor, SetChanges
from field_agent.store.erasure import ErasureCounts
from field_agent.store.errors import StoreCorrupted, StoreError
from field_agent.store.guard import locked
from field_agent.store.indexes import RecordIndex
from field_agent.store.log import gc_paused
from field_agent.store.opening import Unlocked, change_passphrase, create_directory, open_directory
from field_agent.store.outbox import Outbox
from field_agent.store.reader import StoreReader
from field_agent.store.repositories import DEFAULT_SEARCH_LIMIT, Repositories
from field_agent.store.retention import RETIRED_KEY, RetireCounts, retire
from field_agent.store.storage import SealedStorage
from field_agent.store.sync_state import SyncSide, Wire, envelope_stamps
from field_agent.store.tinydb_seam import SealedTinyDB
from field_agent.store.town import save_delivered, town_config, town_history, town_today

FREEZE_AT = 5000

Envelope = dict[str, Any]


def resume_clock(node_id: str, saved: str | None, now_ms: int) -> tuple[HybridClock, str | None]:
    """The store's clock, resumed from its saved last stamp, and a note if that stamp had to be set aside.

    A saved stamp further ahead of the wall clock than the server accepts (the tablet's date was wrong) would
    make every later edit "in the future" too; the server refused each such stamp, so none of them is a stamp
    anyone else has seen, and the clock restarts from the wall clock."""
    if saved is not None and stamp_ms(saved) - now_ms > DEFAULT_MAX_FUTURE_MS:
        hours = (stamp_ms(saved) - now_ms) / 3_600_000
        note = (
            f"the clock was {hours:.0f} h ahead (the tablet's date was wrong when it last saved); it now runs "
            "from the tablet's current date again"
        )
        return HybridClock(node_id, now_ms=wall_ms), note
    return HybridClock(node_id, last=saved), None


class Store:
    """An open store directory (the only writer while open). Use as a context manager or call close().

    A facade over the parts that do the work; its public members:

    - lifecycle: ``create``, ``open`` (class methods), ``change_passphrase`` (a closed store), ``passwd`` (this
      one), ``close``, ``batch()`` (many writes, one frame), ``compact``; ``path``, ``open_report``;
    - identity and settings: ``node_id``, ``grid``, ``meta_get``, ``meta_set``, ``clock`` (settable, for tests);
    - records: ``get``, ``records``, ``views``, ``put``, ``delete``, ``status``, ``retire`` (the retention
      window: local removal of settled old records); reads without copies through
      ``reader`` (``StoreReader``) and ``index`` (``RecordIndex``, the one index of the records: kinds,
      references, groups, conflicts and household search); ``search_households`` (views), ``search_household_ids``
      and ``warm_search``; ``repos`` (typed lookups per kind);
    - parts: ``conflicts`` (``Conflicts``: ``open()``, ``resolve()``) and ``sync`` (``SyncSide``: what the sync
      agent calls). The agent's calls are also forwarded by name, as the sync agent and its in-memory test
      double use them: ``pending_count``, ``next_batch``, ``ack_batch``, ``apply_pulled``, ``refused_changes``,
      ``compact_if_erased``, ``take_erasure_counts``, ``open_conflicts``, ``resolve_conflict``;
    - the storage below for tools and tests: ``db`` (TinyDB), ``storage`` (the sealed log), ``outbox``.
    """

    def __init__(self, unlocked: Unlocked) -> None:
        lock = threading.RLock()
        self._lock = lock
        self.path = unlocked.directory
        self._unlocked = unlocked
        self.open_report = unlocked.report
        self.db = SealedTinyDB(
            storage=SealedStorage,
            writer=unlocked.writer,
            tables=unlocked.tables,
            snapshot_bytes=unlocked.snapshot_bytes,
            appended_bytes=unlocked.appended_bytes,
        )
        self.storage: SealedStorage = self.db.sealed
        self.storage.lock = lock
        records, meta = self.db.delta_table("records"), self.db.delta_table("meta")
        self.outbox = Outbox(
            self.db.delta_table("pending"), self.db.delta_table("inflight"), self.db.delta_table("refused"), records
        )
        self.storage.after_rollback.append(self.outbox.invalidate)
        node_id = meta.raw("node_id")
        if node_id is None or not isinstance(node_id["v"], str):
            raise StoreCorrupted(self.path / "store.log", None, "the store has no device identity (node id)")
        saved_clock = meta.raw("clock")
        clock, clock_note = resume_clock(node_id["v"], saved_clock["v"] if saved_clock else None, wall_ms())
        self._core = core = StoreCore(lock, self.path, self.storage, records, meta, self.outbox, RecordIndex(), clock)
        if clock_note:
            self._clock_past_seen()
            report = dict(self.open_report or {})
            report["clock"] = clock_note
            report["message"] = " ".join(filter(None, (report.get("message"), clock_note)))
            self.open_report = report
        self.index = core.index
        documents = records.documents()
        with gc_paused(freeze=len(documents) >= FREEZE_AT):
            self.index.rebuild(documents)
        self.storage.after_commit.append(self._reindex)
        self.storage.index_hints = self._index_hints
        self._editor = Editor(core)
        self.conflicts = Conflicts(core, self._editor)
        self.sync = SyncSide(core)
        self.repos = Repositories(core, self._editor)
        self.reader = StoreReader(core.index, records)
        try:
            self.compact_if_erased()  # an erasure whose compaction was cut off (field_agent/store/erasure.py)
        except StoreError as error:  # e.g. a full disk: the store still opens; the next sync or open retries
            self.storage.compaction_error = error

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, passphrase: str, *, grid: str | None = None, kdf_profile: str | None = None) -> Store:
        """Make a new store at ``path`` (a directory) and return it open."""
        path = Path(path)
        now = time.time_ns() // 10**6
        meta: dict[str, Any] = {"node_id": {"v": new_node_id()}, "created_ms": {"v": now}}
        if grid:
            meta["grid"] = {"v": grid}
        keys = create_directory(path, passphrase, kdf_profile, {"meta": meta})
        return cls._from(open_directory(path, passphrase, unlocked=keys))

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Store:
        """Unlock and load a store. WrongPassphrase, StoreCorrupted, StoreLocked or StoreNotFound on failure."""
        try:
            unlocked = open_directory(Path(path), passphrase)
        except OSError as error:
            raise StoreError(f"cannot open the store at {path}: {error.strerror or error}") from None
        return cls._from(unlocked)

    @classmethod
    def _from(cls, unlocked: Unlocked) -> Store:
        try:
            return cls(unlocked)
        except BaseException:
            unlocked.writer.close()
            unlocked.lock.release()
            raise

    @staticmethod
    def change_passphrase(path: Path, old: str, new: str, *, kdf_profile: str | None = None) -> None:
        """Re-wrap a closed store's key under a new passphrase (atomic; the data is not rewritten)."""
        change_passphrase(Path(path), old, new, kdf_profile)

    @locked
    def passwd(self, old: str, new: str, *, kdf_profile: str | None = None) -> None:
        """Re-wrap this open store's key under a new passphrase."""
        self._core.check_open()
        change_passphrase(self.path, old, new, kdf_profile, lock_held=True)

    @locked
    def close(self) -> None:
        if self._core.closed:
            return
        self._core.closed = True
        self.storage.close()
        self._unlocked.lock.release()
        # Opening froze the loaded objects out of the cyclic GC's reach (log.gc_paused), this store included: break
        # its reference cycles (commit hooks) so that refcounting frees it once it is dropped.
        self.storage.after_commit.clear()
        self.storage.after_rollback.clear()
        self.storage.index_hints = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one durable frame at the end; if the block raises, none of them is kept."""
        self._core.check_open()
        with self._lock, self.storage.batch():
            yield

    @locked
    def retire(self, now_ms: int | None = None, days: int | None = None) -> RetireCounts:
        """Remove from the tablet the acknowledged records that no open work needs and that are older than the
        window (``days``; the town's window from the last pull when None; nothing when the town keeps everything),
        in one commit, then compact the log so their values leave the file (field_agent/store/retention.py).
        Local removal only: nothing is pushed."""
        self._core.check_open()
        if days is None:
            days = town_config(self._core).tablet_retention_days
        counts = retire(self._core, wall_ms() if now_ms is None else now_ms, days)
        if counts.total:
            self.compact_if_erased()  # if it fails (full disk) the flag stays: the next sync or open compacts
        return counts

    @locked
    def compact(self) -> int:
        """Rewrite the log as one snapshot (atomically); return its size in bytes."""
        self._core.check_open()
        return self.storage.compact()

    @locked
    def finish_compaction(self) -> None:
        """Wait for a compaction running in the background to be written and switched to (what ``close`` does
        first); nothing if none is running. Saves wait meanwhile: for tools and benchmarks, not for the app."""
        self._core.check_open()
        self.storage.finish_compaction()

    def _index_hints(self) -> Callable[[Mapping[str, Any]], dict[str, bytes]]:
        """For a snapshot taken now: what makes its hint of the records' index (copied now, made when called with
        the tables the snapshot writes, so that it follows their order)."""
        source = self.index.hint_source()
        return lambda tables: {"records": RecordIndex.hint(source, tables.get("records", {}))}

    def _reindex(self) -> None:
        core = self._core
        touched, core.touched = core.touched, set()
        for record_id in touched:
            self.index.update(record_id)

    # -- identity and settings ----------------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self._core.node_id

    @property
    def grid(self) -> str | None:
        grid = self._core.meta_get("grid")
        return str(grid) if grid is not None else None

    @property
    def clock(self) -> HybridClock:
        return self._core.clock

    @clock.setter
    def clock(self, clock: HybridClock) -> None:
        self._core.clock = clock

    def town_config(self, day: date | None = None) -> TownConfig:
        """The town configuration in force on ``day`` (today in the town when None): roles and groups, the
        home-sampling rule, the retention window, the time zone (``field_agent/store/town.py``)."""
        return town_config(self._core, day)

    def town_history(self) -> TownHistory:
        """Every version of the town configuration this tablet holds."""
        return town_history(self._core)

    def town_today(self, now: datetime | None = None) -> date:
        """Today's date in the town's time zone (the configuration in force)."""
        return town_today(self._core, now)

    @locked
    def save_town_config(self, delivered: Any) -> bool:
        """Keep the configuration versions a pull delivered (checked first: ConfigError leaves what the tablet
        had); True when they changed."""
        self._core.check_open()
        return save_delivered(self._core, delivered)

    def meta_get(self, key: str, default: Any = None) -> Any:
        """A setting saved in the store (a copy), or ``default``."""
        return self._core.meta_get(key, default)

    @locked
    def meta_set(self, key: str, value: Any) -> None:
        """Save a setting inside the sealed store (durable when it returns, unless inside batch())."""
        self._core.check_open()
        self._core.meta_put(key, copy_value(value))

    def _clock_past_seen(self) -> None:
        """After a clock restart, move the clock past every stamp this tablet holds that the server took or another
        tablet made (all but its own unsent ones, which the server will refuse): an edit made now must sort after
        the value it replaces, or it would lose to it silently (docs/SYNC.md, "A wrong date")."""
        unsent = self.outbox.unsent_stamps()
        records = self._core.records.documents().values()
        newest = max((s for env in records for s in envelope_stamps(env) if s not in unsent), default=None)
        if newest is not None:
            self.clock.observe(newest)

    # -- records ------------------------------------------------------------------------------------------------

    @locked
    def get(self, record_id: str) -> Envelope | None:
        envelope = self._core.records.raw(record_id)
        return None if envelope is None else copy_value(envelope)

    @locked
    def records(self, kind: str | None = None, *, include_deleted: bool = False) -> list[Envelope]:
        table = self._core.records.documents()
        return [copy_value(table[record_id]) for record_id in self.index.ids(kind, include_deleted)]

    @locked
    def views(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Flat views of the given stored records."""
        table = self._core.records.documents()
        return [view(table[record_id]) for record_id in ids if record_id in table]

    def put(
        self,
        kind: str,
        values: Mapping[str, Any],
        *,
        record_id: str | None = None,
        grid: str | None = None,
        set_changes: SetChanges | None = None,
    ) -> Envelope:
        """Create or edit a record (only the given fields); durable and queued for sync when it returns."""
        return self._editor.put(kind, values, record_id=record_id, grid=grid, set_changes=set_changes)

    def delete(self, record_id: str) -> Envelope:
        """Mark a record deleted (a tombstone that syncs); HouseholdNotEmpty while residents live in it."""
        return self._editor.delete(record_id)

    @locked
    def warm_search(self) -> None:
        """Build the household search index now (~1 s at 20,000 residents, mostly loading pinyin tables), e.g. in
        a worker right after unlock, so the first keystroke does not wait for it."""
        _ = self.index.search

    @locked
    def search_household_ids(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[str]:
        """Ids of households matching every term of ``query`` (name, pinyin initials or prefix, phone tail,
        address), the first ``limit`` in walking order."""
        return self.repos.households.search_ids(query, limit)

    @locked
    def search_households(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[dict[str, Any]]:
        """The views of ``search_household_ids``."""
        return self.repos.households.search(query, limit)

    @locked
    def status(self) -> dict[str, Any]:
        """Counts per kind, pending and refused changes, open conflicts, last sync."""
        index = self.index
        counts = {kind: len(ids - index.deleted) for kind, ids in sorted(index.by_kind.items()) if ids}
        return {
            "path": str(self.path),
            "node_id": self.node_id,
            "grid": self.grid,
            "counts": counts,
            "deleted": len(index.deleted),
            "pending_changes": self.sync.pending_count(),
            "in_flight": self.outbox.in_flight(),
            "refused_changes": len(self.outbox.refused.documents()),
            "open_conflicts": len(self.conflicts.open()),
            "last_sync": self.meta_get("last_sync"),
            "cursor": self.meta_get("cursor"),
            "records_held": len(self._core.records.documents()),
            "retention_days": town_config(self._core).tablet_retention_days,
            "retired": self.meta_get(RETIRED_KEY),
        }

    # -- forwarded to the parts, by the names the sync agent calls ------------------------------------------------

    def pending_count(self) -> int:
        return self.sync.pending_count()

    def next_batch(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        return self.sync.next_batch(limit)

    def ack_batch(self, batch_id: str, results: Sequence[Wire]) -> None:
        self.sync.ack_batch(batch_id, results)

    def apply_pulled(self, envelopes: Sequence[Wire], next_cursor: int, purged: Sequence[Wire] | None = None) -> int:
        return self.sync.apply_pulled(envelopes, next_cursor, purged)

    def refused_changes(self) -> list[dict[str, Any]]:
        return self.sync.refused_changes()

    def compact_if_erased(self) -> bool:
        return self.sync.compact_if_erased()

    def take_erasure_counts(self) -> ErasureCounts:
        return self.sync.take_erasure_counts()

    def open_conflicts(self) -> list[OpenConflict]:
        return self.conflicts.open()

    def resolve_conflict(self, record_id: str, conflict_id: str, *, choice: str, value: Any = None) -> Envelope:
        return self.conflicts.resolve(record_id, conflict_id, choice=choice, value=value)
