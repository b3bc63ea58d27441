"""The town's settings for its tablets. One so far: the tablets' retention window (issue 17, goal 1).

``field-server town retention --days N`` sets how many days a tablet keeps acknowledged records of finished work
(closed rounds' samplings, ended isolations' follow-ups, old visits, done tasks, tombstones) before it lets them go;
they stay here, and a worker looks one up online (``GET /v1/records/{id}``). ``off`` (or ``--days off``) keeps
everything on the tablets; ``0`` lets go as soon as the work is over. Stored in the database's ``meta`` table
(``TABLET_RETENTION_KEY``), so every worker process and host sees the same value, and sent to the tablets in the
last page of every pull (``tablet_retention_days``). This is not the erasure rule (``server_stub/retention.py``),
which deletes health data everywhere, the server included.

Kept small and in one place so that a general "town configuration" can take it over.
"""

from __future__ import annotations

import orjson

from server_stub.db.base import Database
from server_stub.retention import parse_days

TABLET_RETENTION_KEY = "tablet_retention_days"
DEFAULT_TABLET_RETENTION_DAYS = 14


def tablet_retention_days(db: Database) -> int | None:
    """The tablets' window in days (None: tablets keep everything); the default when the town set none."""
    stored = db.read_meta(TABLET_RETENTION_KEY)
    if not stored:
        return DEFAULT_TABLET_RETENTION_DAYS
    value = orjson.loads(stored)
    return value if isinstance(value, int) else None


def set_tablet_retention(db: Database, text: str) -> int | None:
    """Set the window from ``14``, ``14d`` or ``off`` (RetentionError otherwise); returns it."""
    days = parse_days(text)
    with db.transaction() as tx:
        tx.set_meta(TABLET_RETENTION_KEY, orjson.dumps(days).decode())
    return days
