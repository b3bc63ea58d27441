"""Server databases: ``open_database(url)`` picks SQLite or PostgreSQL from the URL."""

from __future__ import annotations

from server_stub.db.base import Database, Transaction
from server_stub.errors import DatabaseError
from server_stub.sealing import Sealer

__all__ = ["Database", "Transaction", "open_database"]


def open_database(url: str, sealer: Sealer | None = None) -> Database:
    """Open (creating tables if needed) ``sqlite:///path`` or ``postgresql://user@host:port/db[?schema=name]``.

    Records are sealed at rest with ``sealer``, by default the key file of this database (``server_stub.sealing``,
    made on first use).
    """
    if url.startswith("sqlite:///"):
        from server_stub.config import sqlite_path_from_url
        from server_stub.db.sqlite import SqliteDatabase

        return SqliteDatabase(sqlite_path_from_url(url), sealer)
    if url.startswith(("postgresql://", "postgres://")):
        from server_stub.db.postgres import PostgresDatabase

        return PostgresDatabase(url, sealer=sealer)
    raise DatabaseError(f"unsupported database URL {url.split('://')[0]!r}: use sqlite:///path or postgresql://...")
