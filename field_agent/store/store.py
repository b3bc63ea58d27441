"""The encrypted local store: records as envelopes, every local edit stamped and queued for sync.

Tables inside the sealed log: ``records`` (envelopes by id), ``pending``/``inflight``/``refused`` (the outbox)
and ``meta`` (node id, grid, clock, sync cursor, device credentials, settings). Each public write is one durable
frame; ``batch()`` folds many into one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from field_agent.domain.envelope import DELETED, local_edit, set_members, view
from field_agent.domain.hlc import DEFAULT_MAX_FUTURE_MS, HybridClock, stamp_ms, wall_ms
from field_agent.domain.ids import new_id, new_node_id
from field_agent.domain.validation import normalize_values, validate_record
from field_agent.store.conflicts import ConflictMethods
from field_agent.store.errors import HouseholdNotEmpty, RecordNotFound, StoreClosed, StoreCorrupted, StoreError
from field_agent.store.guard import locked
from field_agent.store.indexes import RecordIndex
from field_agent.store.log import gc_paused
from field_agent.store.opening import Unlocked, change_passphrase, create_directory, open_directory
from field_agent.store.outbox import Outbox
from field_agent.store.rollback import prior_of
from field_agent.store.storage import SealedStorage
from field_agent.store.sync_state import SyncState, envelope_stamps
from field_agent.store.tinydb_seam import SealedTinyDB

if TYPE_CHECKING:
    from field_agent.store.repositories import Repositories

# Set fields per kind (docs/RECORDS.md): a list given for one of these replaces its members.
SET_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("tags",),
    "resident": ("special_groups",),
    "task": ("coverage",),
}
IDENTITY_FIELDS = ("id", "kind", "grid")
FREEZE_AT = 5000


def _copy(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


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


class Store(SyncState, ConflictMethods):
    """An open store directory (the only writer while open). Use as a context manager or call close()."""

    def __init__(self, unlocked: Unlocked) -> None:
        self._lock = threading.RLock()
        self.path = unlocked.directory
        self._unlocked = unlocked
        self.open_report = unlocked.report
        self.db = SealedTinyDB(
            storage=SealedStorage,
            writer=unlocked.writer,
            tables=unlocked.tables,
            snapshot_bytes=unlocked.snapshot_bytes,
        )
        self.storage: SealedStorage = self.db.sealed
        self._records = self.db.table("records")
        self._meta = self.db.table("meta")
        self.outbox = Outbox(
            self.db.table("pending"), self.db.table("inflight"), self.db.table("refused"), self._records
        )
        self.storage.after_rollback.append(self.outbox.invalidate)
        if not isinstance(self.meta_get("node_id"), str):
            raise StoreCorrupted(self.path / "store.log", None, "the store has no device identity (node id)")
        self.clock, clock_note = resume_clock(self.node_id, self.meta_get("clock"), wall_ms())
        if clock_note:
            self._clock_past_seen()
            report = dict(self.open_report or {})
            report["clock"] = clock_note
            report["message"] = " ".join(filter(None, (report.get("message"), clock_note)))
            self.open_report = report
        self.index = RecordIndex()
        records = self._records.documents()
        with gc_paused(freeze=len(records) >= FREEZE_AT):
            self.index.rebuild(records)
        self._touched: set[str] = set()
        self.storage.after_commit.append(self._reindex)
        self._closed = False
        self._repos: Repositories | None = None
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
        meta = {"node_id": {"v": new_node_id()}, "created_ms": {"v": now}}
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
        self._check_open()
        change_passphrase(self.path, old, new, kdf_profile, lock_held=True)

    @locked
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.storage.close()
        self._unlocked.lock.release()
        # Opening froze the loaded objects out of the cyclic GC's reach (log.gc_paused), this store included: break
        # its reference cycles (commit hooks, repositories) so that refcounting frees it once it is dropped.
        self.storage.after_commit.clear()
        self.storage.after_rollback.clear()
        self._repos = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one durable frame at the end; if the block raises, none of them is kept."""
        self._check_open()
        with self._lock, self.storage.batch():
            yield

    @locked
    def compact(self) -> int:
        """Rewrite the log as one snapshot (atomically); return its size in bytes."""
        self._check_open()
        return self.storage.compact()

    def _reindex(self) -> None:
        touched, self._touched = self._touched, set()
        for record_id in touched:
            self.index.update(record_id)

    # -- identity and settings ----------------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self.meta_get("node_id")

    @property
    def grid(self) -> str | None:
        return self.meta_get("grid")

    def meta_get(self, key: str, default: Any = None) -> Any:
        entry = self._meta.raw(key)
        return default if entry is None else _copy(entry["v"])

    @locked
    def meta_set(self, key: str, value: Any) -> None:
        """Save a setting inside the sealed store (durable when it returns, unless inside batch())."""
        self._check_open()
        self._meta.put(key, {"v": _copy(value)})

    def _clock_past_seen(self) -> None:
        """After a clock restart, move the clock past every stamp this tablet holds that the server took or another
        tablet made (all but its own unsent ones, which the server will refuse): an edit made now must sort after
        the value it replaces, or it would lose to it silently (docs/SYNC.md, "A wrong date")."""
        unsent = self.outbox.unsent_stamps()
        records = self._records.documents().values()
        newest = max((s for env in records for s in envelope_stamps(env) if s not in unsent), default=None)
        if newest is not None:
            self.clock.observe(newest)

    def _save_clock(self) -> None:
        self._meta.put("clock", {"v": self.clock.last})

    # -- records ------------------------------------------------------------------------------------------------

    @locked
    def get(self, record_id: str) -> dict[str, Any] | None:
        envelope = self._records.raw(record_id)
        return None if envelope is None else _copy(envelope)

    @locked
    def records(self, kind: str | None = None, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        table = self._records.documents()
        return [_copy(table[record_id]) for record_id in self.index.ids(kind, include_deleted)]

    @property
    def repos(self) -> Repositories:
        """Typed repositories (households, residents, …) over this store."""
        if self._repos is None:
            from field_agent.store.repositories import Repositories

            self._repos = Repositories(self)
        return self._repos

    @locked
    def warm_search(self) -> None:
        """Build the household search index now (~1 s at 20,000 residents, mostly loading pinyin tables), e.g. in
        a worker right after unlock, so the first keystroke does not wait for it."""
        _ = self.index.search

    @locked
    def search_households(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        """Households matching every term of ``query`` (name, pinyin initials or prefix, phone tail, address)."""
        return self.repos.households.search(query, limit)

    @locked
    def views(self, ids: Iterator[str] | list[str] | set[str]) -> list[dict[str, Any]]:
        """Flat views of the given live records."""
        table = self._records.documents()
        return [view(table[record_id]) for record_id in ids if record_id in table]

    @locked
    def put(
        self,
        kind: str,
        values: Mapping[str, Any],
        *,
        record_id: str | None = None,
        grid: str | None = None,
        set_changes: Mapping[str, Mapping[str, bool]] | None = None,
    ) -> dict[str, Any]:
        """Create or edit a record (only the given fields); durable and queued for sync when it returns."""
        self._check_open()
        existing = self._records.raw(record_id) if record_id else None
        values, set_changes = self._prepare(kind, values, set_changes, existing)
        if existing is not None:
            if existing["kind"] != kind:
                raise StoreError(f"record {record_id} is a {existing['kind']}, not a {kind}")
            grid = existing["grid"]
        grid = grid or self.grid
        if not grid:
            raise StoreError("no grid for this record: create the store with --grid or enrol the device first")
        return self._edit(existing, record_id or new_id(), kind, grid, values, set_changes)

    def _prepare(
        self,
        kind: str,
        values: Mapping[str, Any],
        set_changes: Mapping[str, Mapping[str, bool]] | None,
        existing: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, dict[str, bool]]]:
        reserved = [name for name in values if name in IDENTITY_FIELDS or name.startswith("_")]
        if reserved:
            raise StoreError(f"field(s) {', '.join(sorted(reserved))} cannot be set directly")
        values = normalize_values(kind, dict(values))
        proposed = {**values, **{name: dict(elements) for name, elements in (set_changes or {}).items()}}
        validate_record(kind, proposed, view(existing) if existing is not None else None)
        changes = {name: dict(elements) for name, elements in (set_changes or {}).items()}
        for name in SET_FIELDS.get(kind, ()):
            if name in values and isinstance(values[name], list | tuple | set):
                wanted = {str(element) for element in values.pop(name)}
                current = set(set_members(existing, name)) if existing is not None else set()
                elements = changes.setdefault(name, {})
                elements.update({element: True for element in wanted})
                elements.update({element: False for element in current - wanted})
        return values, changes

    def _edit(
        self,
        existing: Mapping[str, Any] | None,
        record_id: str,
        kind: str,
        grid: str,
        values: Mapping[str, Any] | None = None,
        set_changes: Mapping[str, Mapping[str, bool]] | None = None,
        resolve: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        envelope, change = local_edit(
            existing, self.clock, record_id=record_id, kind=kind, grid=grid,
            values=values, set_changes=set_changes, resolve=resolve,
        )  # fmt: skip
        if change is None:
            return envelope
        with self.storage.batch():
            self._records.put(record_id, envelope)
            self.outbox.add(change, prior_of(existing, change))
            self._save_clock()
            self._touched.add(record_id)
        return _copy(envelope)

    @locked
    def delete(self, record_id: str) -> dict[str, Any]:
        """Mark a record deleted (a tombstone that syncs); the record stays for conflict handling.

        A household is not deleted while residents live in it (HouseholdNotEmpty): move or delete them first."""
        self._check_open()
        existing = self._records.raw(record_id)
        if existing is None:
            raise RecordNotFound(record_id)
        if existing["kind"] == "household" and not existing["fields"].get(DELETED):
            residents = [
                rid
                for rid in self.index.referencing("resident", "household", record_id)
                if (resident := self._records.raw(rid)) is not None
                and not resident["fields"].get(DELETED)
                and resident["fields"].get("household") == record_id
            ]
            if residents:
                raise HouseholdNotEmpty(record_id, len(residents))
        return self._edit(existing, record_id, existing["kind"], existing["grid"], {DELETED: True})
