"""The tablets' retention window (issue 17, goal 1), now one setting of the town configuration
(``server_stub/town_config.py``).

``field-server town retention --days N`` sets how many days a tablet keeps acknowledged records of finished work
(closed rounds' samplings, ended isolations' follow-ups, old visits, done tasks, tombstones) before it lets them go;
they stay here, and a worker looks one up online (``GET /v1/records/{id}``). ``off`` (or ``--days off``) keeps
everything on the tablets; ``0`` lets go as soon as the work is over. It is a shortcut: it adds a version of the town
configuration from today, the same as the one in force but for the window. Sent to the tablets in the last page of
every pull (``tablet_retention_days``, and within ``town_config``). This is not the erasure rule
(``server_stub/retention.py``), which deletes health data everywhere, the server included.
"""

from __future__ import annotations

from pathlib import Path

from field_agent.domain.town import DEFAULT_RETENTION_DAYS
from server_stub.db.base import Database
from server_stub.retention import parse_days
from server_stub.town_config import LEGACY_RETENTION_KEY, in_force, set_retention

TABLET_RETENTION_KEY = LEGACY_RETENTION_KEY
DEFAULT_TABLET_RETENTION_DAYS = DEFAULT_RETENTION_DAYS


def tablet_retention_days(db: Database) -> int | None:
    """The tablets' window in days in force today (None: tablets keep everything)."""
    return in_force(db).tablet_retention_days


def set_tablet_retention(db: Database, text: str, audit_dir: Path | None = None) -> int | None:
    """Set the window from ``14``, ``14d`` or ``off`` (RetentionError otherwise) from today; returns it."""
    days = parse_days(text)
    return set_retention(db, days, audit_dir=audit_dir).tablet_retention_days
