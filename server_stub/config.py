"""Server settings and where the server keeps its files."""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from field_agent.domain.hlc import DEFAULT_MAX_FUTURE_MS
from field_agent.protocol.wire import MAX_STRING_LENGTH
from server_stub.errors import DatabaseError

DATA_DIR_ENV = "FIELD_SERVER_DATA_DIR"
DB_ENV = "FIELD_SERVER_DB"
DEFAULT_PORT = 8470
MAX_DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class Settings:
    """Limits and policies of one running server (all have safe defaults)."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS
    max_string_length: int = MAX_STRING_LENGTH
    max_value_depth: int = 8
    enroll_attempts: int = 10
    enroll_window_s: float = 60.0
    last_seen_every_ms: int = 60_000
    # a push's answer is kept so a retried batch is answered, not applied again; a tablet retries within minutes
    # or days, never months (and re-applying a batch changes nothing: the merge is idempotent)
    keep_answers_ms: int = 30 * 24 * 3_600_000
    forget_answers_every_ms: int = 3_600_000
    # pushes are CPU-bound under one GIL: a few threads keep the event loop responsive and the queue fair
    push_threads: int = 4
    # ``serve --access-log``: one line per request (server_stub/access_log.py)
    access_log: bool = False


# set by ``field-server --data-dir`` for the duration of one command
data_dir_override: ContextVar[Path | None] = ContextVar("data_dir_override", default=None)


def data_dir() -> Path:
    """The server's data directory: --data-dir, else $FIELD_SERVER_DATA_DIR, else the platform's user data dir."""
    chosen = data_dir_override.get()
    if chosen is not None:
        return chosen
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("field-server", appauthor=False))


def default_db_url(directory: Path | None = None) -> str:
    """$FIELD_SERVER_DB, else a SQLite file in the data directory."""
    return os.environ.get(DB_ENV) or f"sqlite:///{(directory or data_dir()) / 'server.db'}"


def sqlite_path_from_url(url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////absolute/path.db`` to a path."""
    path = url[len("sqlite:///") :]
    if not path:
        raise DatabaseError("sqlite URL has no file path: use sqlite:///path/to/server.db")
    return Path(os.path.expanduser(path))


def safe_db_url(url: str) -> str:
    """The database URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def default_workers() -> int:
    """Server worker processes when ``--workers`` is not given: one per CPU this process may use, at most 4 (each
    PostgreSQL worker keeps a pool of up to 16 connections; SQLite gains little beyond a few writers)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))
