"""The town's configuration on the server: every dated version, the one in force, setting a new one.

The office sets a version with ``field-server town config set --from FILE [--effective DATE]`` (JSON, or an Excel
workbook: ``server_stub/town_config_xlsx.py``); settings the file leaves out keep the values of the version in
force on that date. The versions are kept in the database's ``meta`` table under ``TOWN_CONFIG_KEY`` (one JSON
list: the same on SQLite and PostgreSQL, every worker process and host), each with its effective date and number;
none is ever removed. Each change appends one entry to the server's audit log (which settings, the effective date,
the version's number, who; no personal data).

Before any version, the town has the built-in defaults (``field_agent/domain/town.py``), with two settings that
predate this module: the tablets' retention window set by ``field-server town retention`` before any version
(``meta[LEGACY_RETENTION_KEY]``) and the time zone of ``$FIELD_SERVER_TZ`` (``server_stub/town_time.py``).

Every pull's last page carries the version in force and every later one (``town_config``), so a tablet switches
on the effective date by itself, offline or not; and, as before, ``tablet_retention_days`` of the version in
force, for tablets that do not read the versions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from field_agent.domain.town import DEFAULT_TOWN_CONFIG, TownConfig, TownHistory, parse_day
from field_agent.ledgers.audit import append_audit_line
from server_stub.db.base import Database
from server_stub.town_time import TZ_ENV, configured_zone, env_zone_name, iso_ms, town_today

TOWN_CONFIG_KEY = "town_config"
LEGACY_RETENTION_KEY = "tablet_retention_days"
AUDIT_FILE = "audit.jsonl"


def history(db: Database) -> TownHistory:
    """Every version the town set (none: an empty history)."""
    return _parsed(db.read_meta(TOWN_CONFIG_KEY))


_cache: dict[str, TownHistory] = {}


def _parsed(text: str | None) -> TownHistory:
    """The stored list read (and checked) once per distinct value: a pull reads it on every last page."""
    if not text:
        return TownHistory()
    found = _cache.get(text)
    if found is None:
        found = TownHistory.from_list(orjson.loads(text))
        _cache.clear()
        _cache[text] = found
    return found


def fallback(db: Database) -> TownConfig:
    """What the town has before its first version: the defaults, the retention set before versions existed and
    ``$FIELD_SERVER_TZ``."""
    stored = db.read_meta(LEGACY_RETENTION_KEY)
    days: int | None = DEFAULT_TOWN_CONFIG.tablet_retention_days
    if stored:
        value = orjson.loads(stored)
        days = value if isinstance(value, int) else None
    return TownConfig(tablet_retention_days=days, time_zone=env_zone_name())


def in_force(db: Database, day: dt.date | None = None) -> TownConfig:
    """The version in force on ``day`` (today in the town when None); also makes its time zone the town's."""
    versions = history(db)
    if not versions.versions:
        configured_zone(None)
        return fallback(db)
    current = versions.in_force(day or town_today(), fallback(db))
    if day is None:
        configured_zone(current.time_zone)
    return current


def for_tablets(db: Database) -> tuple[int | None, list[dict[str, Any]]]:
    """What a pull's last page carries: the tablets' retention window in force, and the version in force yesterday
    (a tablet may be a day behind: another zone, a clock) with every later one (none before the first version).
    Refreshes the town's time zone on the way."""
    versions = history(db)
    if not versions.versions:
        configured_zone(None)
        return fallback(db).tablet_retention_days, []
    current = in_force(db)
    sent = versions.since(town_today() - dt.timedelta(days=1))
    return current.tablet_retention_days, [version.to_dict() for version in sent]


def set_config(
    db: Database,
    data: Mapping[str, Any],
    effective: dt.date | None = None,
    *,
    actor: str | None = None,
    audit_dir: Path | None = None,
) -> TownConfig:
    """Add a version from ``data`` (what the office's file holds; left-out settings keep those in force on the
    effective date), from ``effective`` (today when None, else the file's ``effective``); returns it.
    TownConfigError lists every problem; nothing is stored then."""
    versions = history(db)
    day = effective or parse_day(data.get("effective")) or town_today()
    base = versions.in_force(day, fallback(db))
    given = {key: value for key, value in data.items() if key != "version" and not (effective and key == "effective")}
    TownConfig.from_dict(given, base)  # every problem of the file, its effective date included
    config = TownConfig.from_dict({key: value for key, value in given.items() if key != "effective"}, base)
    with db.transaction() as tx:
        current = _parsed(tx.get_meta(TOWN_CONFIG_KEY))  # inside the transaction: two offices never lose one
        updated, added = current.add(config, day)
        tx.set_meta(TOWN_CONFIG_KEY, orjson.dumps(updated.to_list()).decode())
    _audit(base, added, actor, audit_dir)
    return added


def set_retention(db: Database, days: int | None, **audit: Any) -> TownConfig:
    """``field-server town retention --days N``: a new version from today, the same as the one in force but
    for the tablets' window."""
    return set_config(db, {"tablet_retention_days": days}, town_today(), **audit)


def _audit(before: TownConfig, added: TownConfig, actor: str | None, audit_dir: Path | None) -> None:
    from server_stub.config import data_dir

    old, new = before.settings(), added.settings()
    entry = {
        "at": iso_ms(dt.datetime.now(dt.UTC).timestamp() * 1000),
        "action": "town_config",
        "version": added.version,
        "effective": added.effective.isoformat() if added.effective else None,
        "changed": sorted(key for key in new if old.get(key) != new[key]),
        "actor": actor or f"field-server town config ({os.environ.get('USER', 'admin')})",
    }
    append_audit_line((Path(audit_dir) if audit_dir is not None else data_dir()) / AUDIT_FILE, entry)


__all__ = ["TZ_ENV", "fallback", "for_tablets", "history", "in_force", "set_config", "set_retention"]
