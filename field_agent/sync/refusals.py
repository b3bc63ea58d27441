"""Changes the town server refused, in a person's words: whose record (a resident's name and household, a
household's address, a task's title), which fields, and the server's reason. The sync screen and
``field-agent sync --json`` both show them from here. Blocking: call it from a worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.domain import naming
from field_agent.domain.envelope import view
from field_agent.domain.printable import inert
from field_agent.store import Store


def record_name(store: Store, kind: str, record_id: str, written: Mapping[str, Any] | None = None) -> str:
    """Who or what a record is about (``domain.naming.record_name``). ``written``: the refused change's values,
    used when the record is no longer here (created on this device and refused, so rolled back)."""

    def lookup(other_id: Any) -> Mapping[str, Any] | None:
        envelope = store.get(other_id) if isinstance(other_id, str) and other_id else None
        return view(envelope) if envelope is not None else None

    record = {**(written or {}), **(lookup(record_id) or {})}
    return naming.record_name(kind, record, lookup)


def describe_refusals(store: Store) -> list[dict[str, Any]]:
    """Every change the server refused and this device keeps aside, oldest first: ``record``, ``kind``, ``name``
    (``record_name``), ``fields`` (the fields it wrote), ``code`` and ``reason`` (the server's words, control
    characters shown as escapes)."""
    found = []
    for entry in sorted(store.refused_changes(), key=lambda e: (e.get("refused_ms") or 0, e["id"])):
        change = entry.get("change") or {}
        written = {name: field.get("value") for name, field in (change.get("fields") or {}).items()}
        fields = sorted({*written, *(change.get("sets") or {})} - {"_deleted"})
        if "_deleted" in written:
            fields.append("_deleted")
        kind, record_id = str(change.get("kind") or "?"), str(change.get("record") or "?")
        found.append(
            {
                "id": entry["id"],
                "record": record_id,
                "kind": kind,
                "name": inert(record_name(store, kind, record_id, written)),
                "fields": fields,
                "code": str(entry.get("code") or "refused"),
                "reason": inert(str(entry.get("reason") or "")),
            }
        )
    return found
