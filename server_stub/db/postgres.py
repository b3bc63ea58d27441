"""PostgreSQL backend (a city's server): a small connection pool; a row lock per grid orders sequence numbers."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from server_stub.config import safe_db_url as _safe
from server_stub.db.sql import SqlDatabase
from server_stub.errors import DatabaseError, StorageFailed
from server_stub.sealing import Sealer, sealer_for

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresDatabase(SqlDatabase):
    """A server database in PostgreSQL; ``?schema=name`` in the URL keeps its tables in their own schema."""

    lock_suffix = " FOR UPDATE"
    add_column_guard = "IF NOT EXISTS "
    driver_errors = (psycopg.Error,)

    def __init__(self, url: str, pool_size: int = 16, sealer: Sealer | None = None) -> None:
        self.url = url
        self._conninfo, self.schema = _split_schema(url)
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._all: list[psycopg.Connection[Any]] = []
        self._all_lock = threading.Lock()
        try:
            self.sealer = sealer or sealer_for(url)
            with self._acquire() as connection:
                if self.schema:
                    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                    connection.execute(f'SET search_path TO "{self.schema}"')
            self.create_schema()
        except psycopg.Error as error:
            self.close()
            raise DatabaseError(f"cannot use the PostgreSQL database {_safe(url)}: {error}".strip()) from error

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def executemany(self, connection: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        if self.schema:
            connection.execute(f'SET search_path TO "{self.schema}"')
        with self._all_lock:
            self._all.append(connection)
        return connection

    @contextmanager
    def _acquire(self) -> Iterator[psycopg.Connection[Any]]:
        self._slots.acquire()
        try:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = self._connect()
            try:
                yield connection
            finally:
                if connection.closed or connection.broken:
                    connection.close()
                else:
                    self._idle.put(connection)
        finally:
            self._slots.release()

    @contextmanager
    def _writer(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in a transaction; a write PostgreSQL refuses for want of space or because the database is
        read-only (a standby, ``default_transaction_read_only``) becomes a StorageFailed, logged once."""
        try:
            with self._acquire() as connection, connection.transaction():
                yield connection
        except (psycopg.errors.DiskFull, psycopg.errors.InsufficientResources) as error:
            self._fail(f"the PostgreSQL server of {_safe(self.url)} is out of disk space: nothing was written", error)
        except psycopg.errors.ReadOnlySqlTransaction as error:
            self._fail(f"the PostgreSQL database {_safe(self.url)} is read-only: nothing was written", error)

    def _fail(self, message: str, error: Exception) -> None:
        self.faults.note(message)
        raise StorageFailed(message) from error

    def _reader(self) -> Any:
        return self._acquire()

    def reclaim_space(self) -> bool:
        """After an erasure: VACUUM the tables rows were deleted from, so their dead versions are removed (the
        space is reused; ``VACUUM FULL``, run by the database's owner, would also return it to the system)."""
        with self._acquire() as connection:  # autocommit: VACUUM cannot run inside a transaction
            connection.execute("VACUUM records")
            connection.execute("VACUUM purged")
        return True

    def drop_schema(self) -> None:
        """Drop this database's own schema with everything in it (used by tests and benchmarks)."""
        if not self.schema:
            raise DatabaseError("refusing to drop tables outside a dedicated schema")
        with self._acquire() as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        with self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()


def _split_schema(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    if schema is not None and not SCHEMA_NAME.match(schema):
        raise DatabaseError(f"schema name {schema!r} must be lowercase letters, digits and _")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment)), schema
