"""The storage interface of the town server: what the HTTP layer, the admin commands and the ledgers read and write.

Two implementations share it: SQLite (default, one file) and PostgreSQL (a city's server). Writes happen inside a
``transaction(grid)``; with a grid named, the transaction holds that grid's sequence lock until it commits, so
records of one grid get sequence numbers in commit order and a pull never skips one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from server_stub.sealing import Sealer


class Transaction(ABC):
    """One atomic unit of work; everything written through it commits together or not at all."""

    @abstractmethod
    def get_records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The envelopes of the given ids that exist (in any grid)."""

    @abstractmethod
    def record_seqs(self, ids: Iterable[str]) -> dict[str, int]:
        """The sequence numbers of the given ids that exist: a record's version (every write gives a new one)."""

    def records_of_kind(self, grid: str, kind: str) -> Iterator[dict[str, Any]]:
        """Every envelope of one kind in the locked grid, as this transaction sees it."""
        raise NotImplementedError

    def lock_meta(self, key: str) -> str | None:
        """Take the lock of a ``meta`` entry until the transaction ends (every process and host sharing the
        database waits for it); returns its value (None: not set yet)."""
        raise NotImplementedError

    @abstractmethod
    def put_records(self, grid: str, envelopes: Iterable[dict[str, Any]]) -> int:
        """Store envelopes of the locked grid, each with a fresh sequence number in order; returns the last one."""

    @abstractmethod
    def put_sealed(self, grid: str, rows: Iterable[tuple[str, str, str]]) -> int:
        """``put_records`` for envelopes already checked and sealed (``Database.sealer``): (id, kind, sealed body)."""

    def note_own_writes(self, device_id: str, written: Iterable[tuple[str, int]]) -> None:
        """Record that a device holds these versions (record id, seq) exactly as stored: its pulls skip them."""
        raise NotImplementedError

    @abstractmethod
    def get_batch(self, device_id: str, batch_id: str) -> str | None:
        """The stored answer (JSON) to a push batch, if this device sent it before."""

    @abstractmethod
    def save_batch(self, device_id: str, batch_id: str, response_json: str, now_ms: int) -> None: ...

    @abstractmethod
    def forget_batches(self, before_ms: int) -> int:
        """Delete the stored answers of batches received before ``before_ms``; returns how many."""

    @abstractmethod
    def get_code(self, code_hash: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def insert_code(self, code: dict[str, Any]) -> None: ...

    @abstractmethod
    def use_code(self, code_hash: str, device_id: str, now_ms: int) -> bool:
        """Mark a code used by a device; False when it was used meanwhile."""

    @abstractmethod
    def insert_device(self, device: dict[str, Any]) -> None: ...

    @abstractmethod
    def active_device_with_node(self, node_id: str) -> str | None: ...

    @abstractmethod
    def revoke_device(self, device_id: str, reason: str, now_ms: int) -> bool:
        """Revoke a device; False when there is no such device."""

    def set_device_ends(self, device_id: str, ends_on: str) -> bool:
        """Move a temporary member's device's last day (ISO date); False when there is no such device."""
        raise NotImplementedError

    @abstractmethod
    def mark_synced(self, device_id: str, now_ms: int) -> None:
        """A push committed: the device was seen and synced now."""

    def purged_among(self, ids: Iterable[str]) -> dict[str, int]:
        """Of the given ids, those erased whole by the retention rule: id -> when (ms) (server_stub/retention.py)."""
        raise NotImplementedError

    def cleared_among(self, ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Of the given ids, those whose fields the retention rule cleared: id -> {field: the clearing stamp}."""
        raise NotImplementedError

    def erase(self, grid: str, markers: Iterable[dict[str, Any]]) -> int:
        """Delete erased records of the locked grid and number their erasure markers; returns the last seq."""
        raise NotImplementedError

    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...


class Database(ABC):
    """A server database: reads outside transactions see only committed data."""

    url: str
    sealer: Sealer
    """Seals the record bodies and the stored push answers at rest (``server_stub.sealing``)."""
    # the driver's own exceptions: the HTTP API answers them 503 "database unavailable"
    driver_errors: tuple[type[Exception], ...] = ()

    @abstractmethod
    def transaction(self, grid: str | None = None) -> AbstractContextManager[Transaction]:
        """A write transaction; naming a grid takes that grid's sequence lock first."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def get_record(self, record_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def iter_records(self, grid: str | None = None) -> Iterator[dict[str, Any]]:
        """Every envelope: of one grid in sequence order, or of all grids ordered by id."""

    @abstractmethod
    def read_versions(self, ids: Iterable[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """(sequence number, envelope) of the given ids that exist, as committed (no lock, no transaction)."""

    @abstractmethod
    def pull_page(self, grid: str, cursor: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` (seq, envelope JSON as UTF-8 bytes) of a grid with seq > cursor, in seq order."""

    @abstractmethod
    def list_grids(self) -> list[dict[str, Any]]:
        """Every grid: id, town, community, name, mode, leader, records, devices."""

    @abstractmethod
    def list_devices(self) -> list[dict[str, Any]]:
        """Every device: id, grid, worker, role, name, node_id, created, last_seen, last_sync, revoked,
        revoked_reason, ends_on (a temporary member's last day, else None)."""

    @abstractmethod
    def device_by_token_hash(self, token_hash: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def touch_device(self, device_id: str, now_ms: int) -> None:
        """Record that a device was seen (outside any push transaction)."""

    @abstractmethod
    def note_synced(self, device_id: str, now_ms: int) -> None:
        """Record that a device finished a sync (it received the last page of its grid): seen and synced now,
        outside any push transaction; never moves either time back."""

    @abstractmethod
    def count_records(self, grid: str | None = None) -> int: ...

    def pull_page_with_purged(
        self, grid: str, cursor: int, limit: int, skip_device: str | None = None
    ) -> list[tuple[int, bytes | None, dict[str, Any] | None]]:
        """``pull_page`` with the grid's erasure markers merged in by sequence number; ``skip_device``'s own
        versions (``Transaction.note_own_writes``) as (seq, None, None), not counted in ``limit``."""
        raise NotImplementedError

    def purged_among(self, ids: Iterable[str]) -> dict[str, int]:
        """Of the given ids, those erased whole by the retention rule: id -> when (ms)."""
        raise NotImplementedError

    def purged_markers(self, grid: str | None = None) -> list[dict[str, Any]]:
        """Every erasure marker (of one grid, or all), oldest first."""
        raise NotImplementedError

    def read_meta(self, key: str) -> str | None:
        """A committed ``meta`` entry, read outside any write transaction (a pull reads the town's settings)."""
        with self.transaction() as tx:
            return tx.get_meta(key)

    def cleared_among(self, ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Of the given ids, those whose fields the retention rule cleared: id -> {field: the clearing stamp}."""
        raise NotImplementedError

    def reclaim_space(self) -> bool:
        """After an erasure: rewrite the storage so that no page of a deleted row survives."""
        raise NotImplementedError

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def note_enroll_attempt(self, address: str, now_ms: int, window_ms: int, limit: int) -> int | None:
        """Count one enrolment attempt from ``address`` at ``now_ms`` unless ``limit`` attempts from it fall in
        the last ``window_ms``: None when allowed (and recorded), else the seconds to wait. Exact across threads,
        processes and connections sharing the database."""
