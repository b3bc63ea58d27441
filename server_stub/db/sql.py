"""The SQL both backends share: schema, queries and the transaction; dialects differ only in connections and locks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from typing import Any

import orjson

from server_stub.db.base import Database, Transaction
from server_stub.db.faults import FaultLog
from server_stub.errors import DatabaseError, KeyMismatch, StorageFailed
from server_stub.sealing import KEY_FILE_ENV, PREFIX, SealError

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS grid_seq (grid TEXT PRIMARY KEY, seq BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, grid TEXT NOT NULL, "
    "seq BIGINT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_grid_seq ON records (grid, seq)",
    "CREATE INDEX IF NOT EXISTS records_kind ON records (kind)",
    "CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, grid TEXT NOT NULL, worker TEXT NOT NULL, "
    "role TEXT NOT NULL, name TEXT NOT NULL, node_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
    "created BIGINT NOT NULL, last_seen BIGINT, last_sync BIGINT, revoked BIGINT, revoked_reason TEXT, ends_on TEXT)",
    # one active device per node id: stamps name their node, so two live tablets must never share one
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_active_node ON devices (node_id) WHERE revoked IS NULL",
    "CREATE TABLE IF NOT EXISTS enroll_codes (code_hash TEXT PRIMARY KEY, grid TEXT NOT NULL, "
    "worker TEXT NOT NULL, role TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL, "
    "used BIGINT, device_id TEXT, ends_on TEXT)",
    "CREATE TABLE IF NOT EXISTS batches (device_id TEXT NOT NULL, batch_id TEXT NOT NULL, "
    "response TEXT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (device_id, batch_id))",
    "CREATE INDEX IF NOT EXISTS batches_created ON batches (created)",
    "CREATE TABLE IF NOT EXISTS enroll_attempts (address TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS enroll_attempts_address ON enroll_attempts (address, at_ms)",
    # erasure markers (server_stub/retention.py): which record (or which of its fields) was erased by the
    # retention rule and when, numbered in the grid's sequence so that pulls deliver them; never any value
    "CREATE TABLE IF NOT EXISTS purged (id TEXT NOT NULL, kind TEXT NOT NULL, grid TEXT NOT NULL, "
    "seq BIGINT NOT NULL, purged_ms BIGINT NOT NULL, parent TEXT, fields TEXT, PRIMARY KEY (id, seq))",
    "CREATE INDEX IF NOT EXISTS purged_grid_seq ON purged (grid, seq)",
    "CREATE INDEX IF NOT EXISTS purged_id ON purged (id)",
    # which device's push wrote a record's current version when that device already holds it exactly as stored
    # (server_stub/push.py): its own pulls leave that version out. A row whose seq is no longer the record's is
    # stale and ignored; one row per record at most
    "CREATE TABLE IF NOT EXISTS own_writes (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, device TEXT NOT NULL)",
)
# columns added after a table was first made: (table, column, type), added by ``create_schema`` to a database made
# before them. ``ends_on``: a temporary member's last day (ISO date, town time), NULL for the grid's own staff
ADDED_COLUMNS = (("devices", "ends_on", "TEXT"), ("enroll_codes", "ends_on", "TEXT"))
PURGED_COLUMNS = ("id", "kind", "grid", "seq", "purged_ms", "parent", "fields")
DEVICE_COLUMNS = (
    "id",
    "grid",
    "worker",
    "role",
    "name",
    "node_id",
    "created",
    "last_seen",
    "last_sync",
    "revoked",
    "revoked_reason",
    "ends_on",
)
CODE_COLUMNS = ("code_hash", "grid", "worker", "role", "created", "expires", "used", "device_id", "ends_on")
CHUNK = 500
SEAL_CHECK_KEY = "sealing_check"
SEAL_CHECK_ID = "__sealing_check__"
ANSWERS_SEALED_KEY = "answers_sealed"


class RecordRaced(Exception):
    """Another grid's transaction created the same record id at the same instant; the caller retries."""


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _marker(row: Mapping[str, Any]) -> dict[str, Any]:
    """An erasure marker as the pull sends it: id, kind, seq, purged_ms, parent, fields (None: the whole record)."""
    fields = row.get("fields")
    return {
        "id": row["id"],
        "kind": row["kind"],
        "grid": row["grid"],
        "seq": int(row["seq"]),
        "purged_ms": int(row["purged_ms"]),
        "parent": row.get("parent"),
        "fields": None if fields is None else orjson.loads(fields),
    }


def _cleared_among(run: Any, ids: Iterable[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks = ",".join("?" * len(chunk))
        for record_id, fields in run(
            f"SELECT id, fields FROM purged WHERE fields IS NOT NULL AND id IN ({marks}) ORDER BY seq", chunk
        ).fetchall():
            cleared = found.setdefault(str(record_id), {})
            for name, stamp in orjson.loads(fields).items():
                cleared[name] = max(cleared.get(name, ""), stamp)
    return found


def _purged_among(run: Any, ids: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks = ",".join("?" * len(chunk))
        for record_id, at in run(
            f"SELECT id, max(purged_ms) FROM purged WHERE fields IS NULL AND id IN ({marks}) GROUP BY id", chunk
        ).fetchall():
            found[str(record_id)] = int(at)
    return found


class SqlTransaction(Transaction):
    """A transaction over one DB-API connection; ``q`` rewrites ``?`` placeholders for the dialect."""

    def __init__(self, database: SqlDatabase, connection: Any) -> None:
        self._db = database
        self._conn = connection
        self._grid: str | None = None
        self._seq = 0

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._db.q(sql), params)

    def lock_grid(self, grid: str) -> None:
        locking = "SELECT seq FROM grid_seq WHERE grid = ?" + self._db.lock_suffix
        row = self._run(locking, (grid,)).fetchone()
        if row is None:  # the grid's first write
            self._run("INSERT INTO grid_seq (grid, seq) VALUES (?, 0) ON CONFLICT (grid) DO NOTHING", (grid,))
            row = self._run(locking, (grid,)).fetchone()
        self._grid, self._seq = grid, int(row[0])

    def get_records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        open_body = self._db.sealer.open
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for record_id, body in self._run(f"SELECT id, body FROM records WHERE id IN ({marks})", chunk).fetchall():
                found[record_id] = orjson.loads(open_body(record_id, body))
        return found

    def record_seqs(self, ids: Iterable[str]) -> dict[str, int]:
        seqs: dict[str, int] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            seqs.update(self._run(f"SELECT id, seq FROM records WHERE id IN ({marks})", chunk).fetchall())
        return seqs

    def records_of_kind(self, grid: str, kind: str) -> Iterator[dict[str, Any]]:
        open_body = self._db.sealer.open
        rows = self._run("SELECT id, body FROM records WHERE grid = ? AND kind = ?", (grid, kind)).fetchall()
        return (orjson.loads(open_body(record_id, body)) for record_id, body in rows)

    def lock_meta(self, key: str) -> str | None:
        """The row lock of a ``meta`` entry (made empty if missing): ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
        writers already take turns for the whole transaction."""
        self._run("INSERT INTO meta (key, value) VALUES (?, '') ON CONFLICT (key) DO NOTHING", (key,))
        row = self._run("SELECT value FROM meta WHERE key = ?" + self._db.lock_suffix, (key,)).fetchone()
        return str(row[0]) or None

    def put_records(self, grid: str, envelopes: Iterable[dict[str, Any]]) -> int:
        rows = []
        for envelope in envelopes:
            if envelope["grid"] != grid:
                raise RuntimeError(f"record {envelope['id']} belongs to grid {envelope['grid']}, not {grid}")
            rows.append(
                (envelope["id"], envelope["kind"], self._db.sealer.seal(envelope["id"], orjson.dumps(envelope)))
            )
        return self.put_sealed(grid, rows)

    def put_sealed(self, grid: str, rows: Iterable[tuple[str, str, str]]) -> int:
        if grid != self._grid:
            raise RuntimeError(f"transaction holds the lock of grid {self._grid!r}, not {grid!r}")
        numbered = []
        for record_id, kind, sealed in rows:
            self._seq += 1
            numbered.append((record_id, kind, grid, self._seq, sealed))
        if not numbered:
            return self._seq
        self._db.executemany(
            self._conn,
            self._db.q(
                "INSERT INTO records (id, kind, grid, seq, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, body = excluded.body "
                "WHERE records.grid = excluded.grid AND records.kind = excluded.kind"
            ),
            numbered,
        )
        ids = [row[0] for row in numbered]
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            clash = self._run(f"SELECT id FROM records WHERE id IN ({marks}) AND grid <> ?", [*chunk, grid]).fetchone()
            if clash is not None:
                raise RecordRaced(clash[0])
        self._run("UPDATE grid_seq SET seq = ? WHERE grid = ?", (self._seq, grid))
        return self._seq

    def note_own_writes(self, device_id: str, written: Iterable[tuple[str, int]]) -> None:
        """Record that ``device_id`` holds these versions (record id, seq) as stored: its pulls skip them."""
        rows = [(record_id, seq, device_id) for record_id, seq in written]
        if rows:
            self._db.executemany(
                self._conn,
                self._db.q(
                    "INSERT INTO own_writes (id, seq, device) VALUES (?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, device = excluded.device"
                ),
                rows,
            )

    def purged_among(self, ids: Iterable[str]) -> dict[str, int]:
        """Of the given ids, those erased as whole records by the retention rule: id -> when (ms)."""
        return _purged_among(self._run, ids)

    def cleared_among(self, ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Of the given ids, those whose fields the retention rule cleared: id -> {field: the clearing stamp}."""
        return _cleared_among(self._run, ids)

    def erase(self, grid: str, markers: Iterable[Mapping[str, Any]]) -> int:
        """Delete erased records of the locked grid and number their markers (``PURGED_COLUMNS`` minus seq/grid)
        in its sequence, so that every tablet pulls them; returns the last sequence number."""
        if grid != self._grid:
            raise RuntimeError(f"transaction holds the lock of grid {self._grid!r}, not {grid!r}")
        rows = []
        whole = []
        for marker in markers:
            self._seq += 1
            fields = marker.get("fields")
            rows.append(
                (marker["id"], marker["kind"], grid, self._seq, int(marker["purged_ms"]), marker.get("parent"),
                 None if fields is None else orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode())
            )  # fmt: skip
            if fields is None:
                whole.append(marker["id"])
        for chunk in _chunks(whole):
            marks = ",".join("?" * len(chunk))
            self._run(f"DELETE FROM records WHERE grid = ? AND id IN ({marks})", [grid, *chunk])
        if rows:
            self._db.executemany(
                self._conn,
                self._db.q(f"INSERT INTO purged ({', '.join(PURGED_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                rows,
            )
            self._run("UPDATE grid_seq SET seq = ? WHERE grid = ?", (self._seq, grid))
        return self._seq

    def seal_plaintext(self) -> int:
        """Seal every body stored as plaintext (a database written before sealing existed); returns how many."""
        sealed, last_id = 0, ""
        seal = self._db.sealer.seal
        while rows := self._run(
            "SELECT id, body FROM records WHERE id > ? AND body NOT LIKE ? ORDER BY id LIMIT 1000",
            (last_id, PREFIX + "%"),
        ).fetchall():
            self._db.executemany(
                self._conn,
                self._db.q("UPDATE records SET body = ? WHERE id = ?"),
                [(seal(record_id, body), record_id) for record_id, body in rows],
            )
            sealed += len(rows)
            last_id = str(rows[-1][0])
        return sealed

    def get_batch(self, device_id: str, batch_id: str) -> str | None:
        row = self._run(
            "SELECT response FROM batches WHERE device_id = ? AND batch_id = ?", (device_id, batch_id)
        ).fetchone()
        return None if row is None else self._db.sealer.open_answer(device_id, batch_id, str(row[0])).decode()

    def save_batch(self, device_id: str, batch_id: str, response_json: str, now_ms: int) -> None:
        """Store a push's answer sealed (``Sealer.seal_answer``): whatever a reason holds never lies in the clear."""
        sealed = self._db.sealer.seal_answer(device_id, batch_id, response_json)
        self._run(
            "INSERT INTO batches (device_id, batch_id, response, created) VALUES (?, ?, ?, ?)",
            (device_id, batch_id, sealed, now_ms),
        )

    def seal_plaintext_answers(self) -> int:
        """Seal every push answer stored as plaintext (a database from before answers were sealed)."""
        sealed = 0
        seal = self._db.sealer.seal_answer
        while rows := self._run(
            "SELECT device_id, batch_id, response FROM batches WHERE response NOT LIKE ? LIMIT 1000", (PREFIX + "%",)
        ).fetchall():
            self._db.executemany(
                self._conn,
                self._db.q("UPDATE batches SET response = ? WHERE device_id = ? AND batch_id = ?"),
                [(seal(device, batch, response), device, batch) for device, batch, response in rows],
            )
            sealed += len(rows)
        return sealed

    def forget_batches(self, before_ms: int) -> int:
        return int(self._run("DELETE FROM batches WHERE created < ?", (before_ms,)).rowcount)

    def get_code(self, code_hash: str) -> dict[str, Any] | None:
        row = self._run(
            f"SELECT {', '.join(CODE_COLUMNS)} FROM enroll_codes WHERE code_hash = ?", (code_hash,)
        ).fetchone()
        return None if row is None else dict(zip(CODE_COLUMNS, row, strict=True))

    def insert_code(self, code: dict[str, Any]) -> None:
        columns = (*CODE_COLUMNS[:6], "ends_on")
        self._run(
            f"INSERT INTO enroll_codes ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [code.get(name) for name in columns],
        )

    def use_code(self, code_hash: str, device_id: str, now_ms: int) -> bool:
        cursor = self._run(
            "UPDATE enroll_codes SET used = ?, device_id = ? WHERE code_hash = ? AND used IS NULL",
            (now_ms, device_id, code_hash),
        )
        return bool(cursor.rowcount == 1)

    def insert_device(self, device: dict[str, Any]) -> None:
        columns = (*DEVICE_COLUMNS[:7], "token_hash", "ends_on")
        self._run(
            f"INSERT INTO devices ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [device.get(name) for name in columns],
        )

    def active_device_with_node(self, node_id: str) -> str | None:
        row = self._run("SELECT id FROM devices WHERE node_id = ? AND revoked IS NULL", (node_id,)).fetchone()
        return None if row is None else str(row[0])

    def revoke_device(self, device_id: str, reason: str, now_ms: int) -> bool:
        row = self._run("SELECT revoked FROM devices WHERE id = ?", (device_id,)).fetchone()
        if row is None:
            return False
        if row[0] is None:
            self._run("UPDATE devices SET revoked = ?, revoked_reason = ? WHERE id = ?", (now_ms, reason, device_id))
        return True

    def set_device_ends(self, device_id: str, ends_on: str) -> bool:
        """Move a temporary member's device's last day; False when there is no such device."""
        return bool(self._run("UPDATE devices SET ends_on = ? WHERE id = ?", (ends_on, device_id)).rowcount == 1)

    def mark_synced(self, device_id: str, now_ms: int) -> None:
        """Never moves either time back: instances on several hosts have clocks that differ a little."""
        later = "CASE WHEN {0} IS NULL OR {0} < ? THEN ? ELSE {0} END"
        sql = f"UPDATE devices SET last_sync = {later.format('last_sync')}, last_seen = {later.format('last_seen')}"
        self._run(sql + " WHERE id = ?", (now_ms, now_ms, now_ms, now_ms, device_id))

    def get_meta(self, key: str) -> str | None:
        row = self._run("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


class SqlDatabase(Database):
    """Queries shared by both dialects; subclasses supply connections, transactions and the row-lock suffix."""

    lock_suffix = ""
    add_column_guard = ""  # PostgreSQL: "IF NOT EXISTS " (two processes may start at once)

    def q(self, sql: str) -> str:
        return sql

    def executemany(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        connection.executemany(sql, rows)

    def _reader(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _writer(self) -> AbstractContextManager[Any]:
        """A connection inside an open write transaction; commits on success, rolls back on error."""
        raise NotImplementedError

    @cached_property
    def faults(self) -> FaultLog:
        return FaultLog()

    @contextmanager
    def transaction(self, grid: str | None = None) -> Iterator[Transaction]:
        try:
            self.sealer.check_key_file()  # never write under a key that is no longer the database's
        except KeyMismatch as error:
            self.faults.note(error.message)
            raise
        with self._writer() as connection:
            tx = SqlTransaction(self, connection)
            if grid is not None:
                tx.lock_grid(grid)
            yield tx
        self.faults.clear()  # a write went through: the next fault is logged again

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._reader() as connection:
            return list(connection.execute(self.q(sql), params).fetchall())

    def create_schema(self) -> None:
        with self._writer() as connection:
            for statement in SCHEMA:
                connection.execute(statement)
            for table, column, kind in ADDED_COLUMNS:
                present = {part[0] for part in connection.execute(f"SELECT * FROM {table} LIMIT 0").description}
                if column not in present:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {self.add_column_guard}{column} {kind}")
        self._check_sealing()

    def _check_sealing(self) -> None:
        """Check that this server's key opens the database; seal the bodies and the stored answers of a database
        from before sealing."""
        self._check_key()
        if not self._query("SELECT value FROM meta WHERE key = ?", (ANSWERS_SEALED_KEY,)):
            sealed = 0
            with self.transaction() as tx:
                assert isinstance(tx, SqlTransaction)
                if tx.get_meta(ANSWERS_SEALED_KEY) is None:  # (not sealed by another process meanwhile)
                    sealed = tx.seal_plaintext_answers()
                    tx.set_meta(ANSWERS_SEALED_KEY, "1")
            if sealed:
                self._after_sealing()

    def _check_key(self) -> None:
        check = self._query("SELECT value FROM meta WHERE key = ?", (SEAL_CHECK_KEY,))
        if not check:
            sealed: int | None = None
            with self.transaction() as tx:
                assert isinstance(tx, SqlTransaction)
                if tx.get_meta(SEAL_CHECK_KEY) is None:  # (not sealed by another process meanwhile)
                    sealed = tx.seal_plaintext()
                    tx.set_meta(SEAL_CHECK_KEY, self.sealer.seal(SEAL_CHECK_ID, "sealed"))
            if sealed is not None:
                if sealed:
                    self._after_sealing()
                return
            check = self._query("SELECT value FROM meta WHERE key = ?", (SEAL_CHECK_KEY,))
        try:
            self.sealer.open(SEAL_CHECK_ID, str(check[0][0]))
        except SealError:
            where = self.url.split("?")[0]
            if self.sealer.new_key is not None:  # made just now: the database's own key is missing
                self.sealer.new_key.unlink(missing_ok=True)
                raise DatabaseError(
                    f"the key file {self.sealer.new_key} of the database {where} is missing, so its records cannot "
                    f"be read: restore the key file from your backup (or point ${KEY_FILE_ENV} at it)"
                ) from None
            raise DatabaseError(
                f"{self.sealer.source} does not open the database {where}: it was sealed with another key; use "
                f"the key file that belongs to it (${KEY_FILE_ENV})"
            ) from None

    def _after_sealing(self) -> None:
        """Purge the former plaintext from the storage, where the dialect can (SQLite: VACUUM)."""

    def read_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT body FROM records WHERE id = ?", (record_id,))
        return orjson.loads(self.sealer.open(record_id, rows[0][0])) if rows else None

    def iter_records(self, grid: str | None = None) -> Iterator[dict[str, Any]]:
        """Every envelope: of one grid in sequence order, or of all grids by id; read in pages of 1,000."""
        if grid is not None:
            seq = 0
            while rows := self.pull_page(grid, seq, 1000):
                yield from (orjson.loads(body) for _, body in rows)
                seq = rows[-1][0]
            return
        last_id = ""
        while stored := self._query("SELECT id, body FROM records WHERE id > ? ORDER BY id LIMIT 1000", (last_id,)):
            yield from (orjson.loads(self.sealer.open(record_id, body)) for record_id, body in stored)
            last_id = str(stored[-1][0])

    def read_versions(self, ids: Iterable[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for record_id, seq, body in self._query(f"SELECT id, seq, body FROM records WHERE id IN ({marks})", chunk):
                found[record_id] = (int(seq), orjson.loads(self.sealer.open(record_id, body)))
        return found

    def pull_page(self, grid: str, cursor: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._query(
            "SELECT seq, id, body FROM records WHERE grid = ? AND seq > ? ORDER BY seq LIMIT ?", (grid, cursor, limit)
        )
        open_body = self.sealer.open
        return [(int(seq), open_body(record_id, body)) for seq, record_id, body in rows]

    def pull_page_with_purged(
        self, grid: str, cursor: int, limit: int, skip_device: str | None = None
    ) -> list[tuple[int, bytes | None, dict[str, Any] | None]]:
        """``pull_page`` with the grid's erasure markers merged in by sequence number: (seq, envelope JSON, None)
        for a record, (seq, None, marker) for an erasure; up to ``limit`` of them.

        ``skip_device``: versions that device wrote and holds as stored (``note_own_writes``) come as (seq, None,
        None), not counted in ``limit`` and without their body, so the page reaches past them."""
        upto: int | None
        if skip_device is None:
            plain = self.pull_page(grid, cursor, limit)
            rows: list[tuple[int, bytes | None]] = list(plain)
            upto = plain[-1][0] if len(plain) == limit else None  # markers beyond a full page belong to a later one
        else:
            rows, upto = self._pull_skipping(grid, cursor, limit, skip_device)
        sql = f"SELECT {', '.join(PURGED_COLUMNS)} FROM purged WHERE grid = ? AND seq > ?"
        params: list[Any] = [grid, cursor]
        if upto is not None:
            sql += " AND seq <= ?"
            params.append(upto)
        markers = self._query(sql + " ORDER BY seq LIMIT ?", [*params, limit])
        merged: list[tuple[int, bytes | None, dict[str, Any] | None]] = [(seq, body, None) for seq, body in rows]
        if not markers and skip_device is None:
            return merged
        for row in markers:
            marker = dict(zip(PURGED_COLUMNS, row, strict=True))
            merged.append((int(marker["seq"]), None, _marker(marker)))
        merged.sort(key=lambda item: item[0])
        counted = 0
        for end, (_, body, erased) in enumerate(merged):
            if body is not None or erased is not None:
                counted += 1
                if counted > limit:
                    return merged[:end]
        return merged

    def _pull_skipping(
        self, grid: str, cursor: int, limit: int, device: str
    ) -> tuple[list[tuple[int, bytes | None]], int | None]:
        """Up to ``limit`` records after ``cursor``, the device's own versions as (seq, None) in between; and the
        last sequence number read when the page is full (None when the grid's end was reached)."""
        sql = (
            "SELECT r.seq, r.id, CASE WHEN o.device = ? THEN NULL ELSE r.body END FROM records r "
            "LEFT JOIN own_writes o ON o.id = r.id AND o.seq = r.seq "
            "WHERE r.grid = ? AND r.seq > ? ORDER BY r.seq LIMIT ?"
        )
        open_body = self.sealer.open
        rows: list[tuple[int, bytes | None]] = []
        found, after, step = 0, cursor, limit
        while True:
            scanned = self._query(sql, (device, grid, after, step))
            for seq, record_id, body in scanned:
                if body is not None:
                    found += 1
                rows.append((int(seq), open_body(record_id, body) if body is not None else None))
                if found == limit:
                    return rows, int(seq)
            if len(scanned) < step:
                return rows, None
            after, step = int(scanned[-1][0]), max(step, 2000)  # past a run of own versions: read in larger steps

    def purged_among(self, ids: Iterable[str]) -> dict[str, int]:
        """Of the given ids, those erased as whole records by the retention rule: id -> when (ms)."""
        with self._reader() as connection:
            return _purged_among(lambda sql, params=(): connection.execute(self.q(sql), params), ids)

    def cleared_among(self, ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Of the given ids, those whose fields the retention rule cleared: id -> {field: the clearing stamp}."""
        with self._reader() as connection:
            return _cleared_among(lambda sql, params=(): connection.execute(self.q(sql), params), ids)

    def purged_markers(self, grid: str | None = None) -> list[dict[str, Any]]:
        """Every erasure marker (of one grid, or all), oldest first: what was erased and when, never a value."""
        sql = f"SELECT {', '.join(PURGED_COLUMNS)} FROM purged"
        rows = (
            self._query(sql + " WHERE grid = ? ORDER BY seq", (grid,))
            if grid
            else self._query(sql + " ORDER BY grid, seq")
        )
        return [_marker(dict(zip(PURGED_COLUMNS, row, strict=True))) for row in rows]

    def reclaim_space(self) -> bool:
        """After an erasure: rewrite the storage so that no page of the deleted rows survives (see the dialects);
        False when that could not be finished now."""
        return True

    def count_records(self, grid: str | None = None) -> int:
        if grid is None:
            return int(self._query("SELECT count(*) FROM records")[0][0])
        return int(self._query("SELECT count(*) FROM records WHERE grid = ?", (grid,))[0][0])

    def list_grids(self) -> list[dict[str, Any]]:
        records = dict(self._query("SELECT grid, count(*) FROM records GROUP BY grid"))
        devices = dict(self._query("SELECT grid, count(*) FROM devices WHERE revoked IS NULL GROUP BY grid"))
        grids = []
        for record_id, body in self._query("SELECT id, body FROM records WHERE kind = 'grid' ORDER BY id"):
            envelope = orjson.loads(self.sealer.open(record_id, body))
            fields = envelope["fields"]
            grids.append(
                {
                    "id": envelope["id"],
                    "town": fields.get("town"),
                    "community": fields.get("community"),
                    "name": fields.get("name"),
                    "mode": fields.get("mode"),
                    "leader": fields.get("leader"),
                    "deleted": bool(fields.get("_deleted")),
                    "records": int(records.get(envelope["id"], 0)),
                    "devices": int(devices.get(envelope["id"], 0)),
                }
            )
        return grids

    def list_devices(self) -> list[dict[str, Any]]:
        rows = self._query(f"SELECT {', '.join(DEVICE_COLUMNS)} FROM devices ORDER BY created, id")
        return [dict(zip(DEVICE_COLUMNS, row, strict=True)) for row in rows]

    def device_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        rows = self._query(f"SELECT {', '.join(DEVICE_COLUMNS)} FROM devices WHERE token_hash = ?", (token_hash,))
        return dict(zip(DEVICE_COLUMNS, rows[0], strict=True)) if rows else None

    def touch_device(self, device_id: str, now_ms: int) -> None:
        """Best effort: on a disk that takes no write (full, read-only) a pull still answers; the fault is logged
        once by the writer and the next push reports it."""
        with contextlib.suppress(StorageFailed), self._writer() as connection:
            connection.execute(self.q("UPDATE devices SET last_seen = ? WHERE id = ?"), (now_ms, device_id))

    def note_synced(self, device_id: str, now_ms: int) -> None:
        """Best effort, like ``touch_device``; a push's ``mark_synced`` committed meanwhile with a later time
        keeps it."""
        later = "CASE WHEN {0} IS NULL OR {0} < ? THEN ? ELSE {0} END"
        sql = f"UPDATE devices SET last_sync = {later.format('last_sync')}, last_seen = {later.format('last_seen')}"
        with contextlib.suppress(StorageFailed), self._writer() as connection:
            connection.execute(self.q(sql + " WHERE id = ?"), (now_ms, now_ms, now_ms, now_ms, device_id))

    def note_enroll_attempt(self, address: str, now_ms: int, window_ms: int, limit: int) -> int | None:
        """The enrolment rate limit, shared by every worker process: a sliding window in ``enroll_attempts``.

        One lock row in ``meta`` (taken like a grid's sequence lock) makes check-and-insert atomic on both
        backends, so concurrent attempts from several processes never exceed ``limit``. Every row older than the
        window is pruned at most once per window per process, so the table holds about one window of attempts.
        """
        horizon = now_ms - window_ms
        with self.transaction() as tx:
            assert isinstance(tx, SqlTransaction)
            tx._run("INSERT INTO meta (key, value) VALUES ('enroll_attempts_lock', '') ON CONFLICT (key) DO NOTHING")
            tx._run("SELECT value FROM meta WHERE key = 'enroll_attempts_lock'" + self.lock_suffix).fetchone()
            if now_ms - getattr(self, "_enroll_pruned_ms", 0) >= window_ms:
                tx._run("DELETE FROM enroll_attempts WHERE at_ms <= ?", (horizon,))
                self._enroll_pruned_ms = now_ms
            else:
                tx._run("DELETE FROM enroll_attempts WHERE address = ? AND at_ms <= ?", (address, horizon))
            count, oldest = tx._run(
                "SELECT count(*), min(at_ms) FROM enroll_attempts WHERE address = ?", (address,)
            ).fetchone()
            if int(count) >= limit:
                # whole seconds until the oldest attempt leaves the window; at most one window (clock set back)
                return max(1, min(-(-window_ms // 1000), -(-(int(oldest) + window_ms - now_ms) // 1000)))
            tx._run("INSERT INTO enroll_attempts (address, at_ms) VALUES (?, ?)", (address, now_ms))
        return None
