"""Retention rules and erasure (PIPL Art. 47): health and isolation data is deleted once its purpose is achieved.

The town office sets, per kind of data, how many days it is kept after its purpose ended (``field-server
retention``); ``field-server purge`` applies the rules:

- ``sampling``: sampling records (results, teams, reasons), counted from the round's closing (its ``status``
  stamp) or the record's last change, whichever is later;
- ``followup``: isolation follow-ups (temperatures, symptoms, needs), counted from the end of the resident's
  isolation (``isolation_status`` no longer ``home``) or the record's last change;
- ``visit_health``: the ``health`` answers of visits (the visit itself stays), counted from the visit or the
  answers' last change;
- ``campaign_result``: campaign results (answers such as health, needs, vaccination and the reasons given),
  counted from the campaign's closing or the record's last change, whichever is later.

A record of an open round or campaign, or of a resident still isolated at home, is never due. A record with an open
conflict is held (counted, not erased) until a person resolves it. Erased records leave the database; an erasure
marker (id, kind, the round or resident it belonged to, the time; never a value) takes their place in the grid's
sequence, so every tablet pulls it and erases its copy too. Each run is recorded in the server's audit log (counts
only).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from field_agent.domain.envelope import is_deleted, local_edit, open_conflicts
from field_agent.domain.hlc import stamp_ms, wall_ms
from field_agent.ledgers.audit import append_audit_line
from server_stub.db.base import Database
from server_stub.errors import ServerError
from server_stub.town_time import from_ms, iso_ms

RULES_META_KEY = "retention_days"
DAY_MS = 86_400_000
CHINA = dt.timezone(dt.timedelta(hours=8))
# days kept after the purpose ended, unless the town office sets otherwise
DEFAULT_DAYS: dict[str, int | None] = {"sampling": 30, "followup": 30, "visit_health": 30, "campaign_result": 30}
RULE_KINDS = {
    "sampling": "sampling",
    "followup": "followup",
    "visit_health": "visit",
    "campaign_result": "campaign_result",
}
# the record a rule's record belongs to: its round, its campaign, its resident
PARENT_FIELDS = {"sampling": "round", "campaign_result": "campaign", "followup": "resident"}
HEALTH_FIELDS = ("health",)
MAX_DAYS = 3650


class RetentionError(ServerError):
    """A retention rule that cannot be set as asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="retention_invalid")


def parse_days(text: str) -> int | None:
    """``30``, ``30d`` or ``off`` (kept until a rule is set again) as days (None for off)."""
    value = text.strip().lower()
    if value in ("off", "never", "keep"):
        return None
    digits = value[:-1] if value.endswith("d") else value
    if not digits.isdigit() or int(digits) > MAX_DAYS:
        raise RetentionError(
            f"days must be a whole number from 0 to {MAX_DAYS} (e.g. 30 or 30d) or 'off', not {text!r}"
        )
    return int(digits)


def load_rules(db: Database) -> dict[str, int | None]:
    """The town office's rules (days per kind; None keeps the data), the defaults where none was set."""
    with db.transaction() as tx:
        stored = tx.get_meta(RULES_META_KEY)
    rules = dict(DEFAULT_DAYS)
    if stored:
        rules.update({kind: days for kind, days in orjson.loads(stored).items() if kind in rules})
    return rules


def set_rule(db: Database, kind: str, days: int | None) -> dict[str, int | None]:
    if kind not in DEFAULT_DAYS:
        raise RetentionError(f"unknown kind of data {kind!r}: use one of {', '.join(DEFAULT_DAYS)}")
    with db.transaction() as tx:
        stored = tx.get_meta(RULES_META_KEY)
        rules = orjson.loads(stored) if stored else {}
        rules[kind] = days
        tx.set_meta(RULES_META_KEY, orjson.dumps(rules).decode())
    return load_rules(db)


# --- which records are due ----------------------------------------------------------------------------------------


def _newest_ms(envelope: Mapping[str, Any]) -> int:
    stamps = list(envelope["stamps"].values())
    stamps += [entry[0] for elements in envelope["sets"].values() for entry in elements.values()]
    return max((stamp_ms(stamp) for stamp in stamps), default=0)


def _ended_ms(rule: str, envelope: Mapping[str, Any], records: Mapping[str, Mapping[str, Any]]) -> int | None:
    """When the purpose of this record's data ended (ms), or None while it still serves (open round, isolated)."""
    fields = envelope["fields"]
    own = _newest_ms(envelope)
    if rule == "visit_health":
        visited = _parse_ms(fields.get("visited_at"))
        return max(own, visited or 0)
    parent_id = fields.get(PARENT_FIELDS[rule])
    parent = records.get(parent_id) if isinstance(parent_id, str) else None
    if parent is None or is_deleted(parent):
        return own
    if rule in ("sampling", "campaign_result"):
        if parent["fields"].get("status") != "closed" or "status" not in parent["stamps"]:
            return None
        return max(own, stamp_ms(parent["stamps"]["status"]))
    if parent["fields"].get("isolation_status") == "home":
        return None
    ended = parent["stamps"].get("isolation_status")
    return max(own, stamp_ms(ended) if ended else 0)


def _parse_ms(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return int((when if when.tzinfo else when.replace(tzinfo=CHINA)).timestamp() * 1000)


def _holds_health(envelope: Mapping[str, Any]) -> bool:
    if any(envelope["fields"].get(name) not in (None, {}) for name in HEALTH_FIELDS):
        return True
    return any(c.get("field") in HEALTH_FIELDS for c in envelope.get("conflicts", {}).values())


def _candidates(rule: str, envelopes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    kind = RULE_KINDS[rule]
    found = [e for e in envelopes if e["kind"] == kind]
    return [e for e in found if _holds_health(e)] if rule == "visit_health" else found


@dataclass
class GridPlan:
    grid: str
    due: dict[str, list[str]] = field(default_factory=dict)  # rule -> record ids
    held: dict[str, list[str]] = field(default_factory=dict)  # rule -> ids with open conflicts


def plan_grid(
    grid: str, records: Mapping[str, Mapping[str, Any]], rules: Mapping[str, int | None], now_ms: int
) -> GridPlan:
    """What the rules erase in one grid's records (by id), and what they hold back for open conflicts."""
    plan = GridPlan(grid)
    for rule, days in rules.items():
        if days is None:
            continue
        for envelope in _candidates(rule, records.values()):
            ended = _ended_ms(rule, envelope, records)
            if ended is None or ended + days * DAY_MS > now_ms:
                continue
            target = plan.held if open_conflicts(envelope) else plan.due
            target.setdefault(rule, []).append(envelope["id"])
    return plan


def _parents(records: Mapping[str, Mapping[str, Any]], ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for record_id in ids:
        fields = records[record_id]["fields"]
        found.update(v for k in ("round", "campaign", "resident") if isinstance(v := fields.get(k), str))
    return found


# --- erasing ------------------------------------------------------------------------------------------------------


def _erase_grid(db: Database, plan: GridPlan, rules: Mapping[str, int | None], now_ms: int) -> GridPlan:
    """Erase what is still due under the grid's lock (a push may have changed a record since it was planned)."""
    from server_stub.records import CLOCK_KEY, server_clock

    ids = [record_id for ids in plan.due.values() for record_id in ids]
    with db.transaction(plan.grid) as tx:
        current = tx.get_records(ids)
        current.update(tx.get_records(_parents(current, current)))
        fresh = plan_grid(plan.grid, current, rules, now_ms)
        clock = server_clock(tx)
        edited, markers = [], []
        for rule, rule_ids in fresh.due.items():
            for record_id in rule_ids:
                envelope = current[record_id]
                if rule == "visit_health":
                    stripped = _strip_health(envelope, clock)
                    edited.append(stripped)
                    # the stamp that cleared each field: a tablet clears its copy with that same stamp
                    cleared = {name: stripped["stamps"][name] for name in HEALTH_FIELDS if name in stripped["stamps"]}
                    markers.append(
                        {"id": record_id, "kind": "visit", "purged_ms": now_ms, "parent": record_id, "fields": cleared}
                    )
                else:
                    parent = envelope["fields"].get(PARENT_FIELDS[rule])
                    markers.append(
                        {"id": record_id, "kind": envelope["kind"], "purged_ms": now_ms,
                         "parent": parent if isinstance(parent, str) else None, "fields": None}
                    )  # fmt: skip
        if edited:
            tx.put_records(plan.grid, edited)
            tx.set_meta(CLOCK_KEY, clock.last)
        tx.erase(plan.grid, markers)
    fresh.held = plan.held | fresh.held
    return fresh


def _strip_health(envelope: Mapping[str, Any], clock: Any) -> dict[str, Any]:
    """The visit with its health answers cleared by a server stamp (newer than any tablet's copy, so the merge
    clears them everywhere) and every conflict that kept an old answer removed."""
    stamps = list(envelope["stamps"].values())
    if stamps:
        clock.observe(max(stamps))
    updated, _ = local_edit(
        envelope, clock, record_id=envelope["id"], kind=envelope["kind"], grid=envelope["grid"],
        values=dict.fromkeys(HEALTH_FIELDS),
    )  # fmt: skip
    updated["conflicts"] = {
        cid: c for cid, c in updated.get("conflicts", {}).items() if c.get("field") not in HEALTH_FIELDS
    }
    return updated


def purge(
    db: Database, *, dry_run: bool = False, now_ms: int | None = None, audit_dir: Path | None = None
) -> dict[str, Any]:
    """Apply the retention rules to every grid; returns counts per rule of what was (or would be) erased and held.

    A real run deletes, writes the erasure markers, reclaims the database's free space (SQLite: WAL checkpoint and
    VACUUM; PostgreSQL: VACUUM) and appends one entry (counts only) to the server's audit log.
    """
    now = now_ms if now_ms is not None else wall_ms()
    rules = load_rules(db)
    erased: dict[str, int] = dict.fromkeys(DEFAULT_DAYS, 0)
    held: dict[str, int] = dict.fromkeys(DEFAULT_DAYS, 0)
    grids = sorted({g["id"] for g in db.list_grids()})
    for grid in grids:
        records = {envelope["id"]: envelope for envelope in db.iter_records(grid)}
        plan = plan_grid(grid, records, rules, now)
        if not dry_run and plan.due:
            plan = _erase_grid(db, plan, rules, now)
        for rule, ids in plan.due.items():
            erased[rule] += len(ids)
        for rule, ids in plan.held.items():
            held[rule] += len(ids)
    day = from_ms(now).date().isoformat()
    report = {"dry_run": dry_run, "date": day, "rules": rules, "erased": erased, "held_open_conflicts": held}
    if not dry_run:
        report["space_reclaimed"] = db.reclaim_space() if any(erased.values()) else True
        _audit(report, now, audit_dir)
    return report


def _audit(report: Mapping[str, Any], now_ms: int, audit_dir: Path | None) -> None:
    from server_stub.config import data_dir

    entry = {
        "at": iso_ms(now_ms),
        "action": "purge",
        "erased": dict(report["erased"]),
        "held_open_conflicts": dict(report["held_open_conflicts"]),
        "rules": dict(report["rules"]),
        "actor": f"field-server purge ({os.environ.get('USER', 'admin')})",
    }
    append_audit_line((Path(audit_dir) if audit_dir is not None else data_dir()) / "audit.jsonl", entry)
