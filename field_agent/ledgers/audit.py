"""Audit entries for ledger exports and for full ID numbers shown on screen: who saw what, when and why.

Entries never hold residents' personal data: for an export the ledger, the scope, counts, the format and the
actor; for a reveal the record ids, which fields, the worker's stated reason, how long and the actor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Protocol

from field_agent.ledgers.builder import Ledger
from field_agent.ledgers.errors import UnmaskedRefused

LEADER_ROLE = "leader"
STORE_AUDIT_KEY = "audit"  # the store's meta entry holding a device's audit list
STORE_AUDIT_KEEP = 1000


class AuditedStore(Protocol):
    """A store with meta entries (JSON values by key), where a device keeps its audit list."""

    def meta_get(self, key: str, default: Any = None) -> Any: ...

    def meta_set(self, key: str, value: object) -> None: ...


def check_unmasked_allowed(role: str | None, unmasked: bool, action: str = "export") -> None:
    """Refuse full ID numbers and phones to anyone but the grid leader (``action``: what is being asked for)."""
    if unmasked and role != LEADER_ROLE:
        raise UnmaskedRefused(
            f"only the grid leader may {action} full ID numbers and phones (--unmasked); "
            f"this device is enrolled as {role or 'no role'}: {action} without --unmasked",
            code="unmasked_refused",
            action=action,
            role=role or "no role",
        )


def export_entry(ledger: Ledger, *, actor: str | None, role: str | None, fmt: str, at: dt.datetime) -> dict[str, Any]:
    """What the audit log keeps about one export."""
    return {
        "at": at.isoformat(timespec="seconds"),
        "action": "export",
        "ledger": ledger.name,
        "scope": ledger.scope,
        "rows": len(ledger.rows),
        "format": fmt.lstrip("."),
        "unmasked": not ledger.masked,
        "actor": actor or "",
        "role": role or "",
    }


def reveal_entry(
    *,
    record: str,
    household: str | None,
    fields: list[str],
    reason: str,
    seconds: float,
    actor: str | None,
    role: str | None,
    at: dt.datetime,
) -> dict[str, Any]:
    """What the audit log keeps when a worker has a resident's full ID number shown on screen (never the number)."""
    return {
        "at": at.isoformat(timespec="seconds"),
        "action": "reveal",
        "record": record,
        "household": household or "",
        "fields": list(fields),
        "reason": reason,
        "seconds": seconds,
        "actor": actor or "",
        "role": role or "",
    }


def records_entry(*, what: str, rows: int, actor: str | None, role: str | None, at: dt.datetime) -> dict[str, Any]:
    """What the audit log keeps about records printed in full by the command line (``what``: the command)."""
    return {
        "at": at.isoformat(timespec="seconds"),
        "action": "records",
        "ledger": "",
        "scope": what,
        "rows": rows,
        "format": "json",
        "unmasked": True,
        "actor": actor or "",
        "role": role or "",
    }


def append_store_audit(store: AuditedStore, entry: dict[str, Any]) -> None:
    """Add one entry to the device's audit list in its (encrypted, durable) store, keeping the newest 1,000."""
    audit = list(store.meta_get(STORE_AUDIT_KEY) or [])
    audit.append(entry)
    store.meta_set(STORE_AUDIT_KEY, audit[-STORE_AUDIT_KEEP:])


def append_audit_line(path: Path, entry: dict[str, Any]) -> None:
    """Append one entry to an append-only JSON-lines audit file and flush it to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit_lines(path: Path) -> list[dict[str, Any]]:
    """Every entry of a JSON-lines audit file (none when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
