"""Open conflicts as a person sees them, and their resolution (itself a normal, synced edit)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from field_agent.domain.envelope import view
from field_agent.domain.errors import ValidationError
from field_agent.domain.hlc import stamp_ms, stamp_node
from field_agent.domain.validation import normalize_values, validate_record
from field_agent.protocol.merge import conflict_parties
from field_agent.store import Store

CHOICES = ("mine", "theirs", "value")


def _when(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return datetime.fromtimestamp(stamp_ms(stamp) / 1000, UTC).isoformat(timespec="seconds")


def describe(envelope: dict[str, Any], cid: str, conflict: dict[str, Any], node_id: str) -> dict[str, Any]:
    """A JSON-ready description of one open conflict, from this device's point of view."""
    field = conflict["field"]
    entry: dict[str, Any] = {
        "record": envelope["id"],
        "kind": envelope["kind"],
        "cid": cid,
        "field": field,
        "type": conflict["type"],
        "opened_at": _when(conflict.get("opened")),
        "parties": conflict_parties(conflict),
        "current": envelope["fields"].get(field),
        "deleted": bool(envelope["fields"].get("_deleted")),
    }
    if conflict["type"] == "value":
        sides = {"winner": conflict["winner"], "loser": conflict["loser"]}
        entry["winner"] = {**sides["winner"], "at": _when(sides["winner"]["stamp"])}
        entry["loser"] = {**sides["loser"], "at": _when(sides["loser"]["stamp"])}
        mine = [name for name, side in sides.items() if stamp_node(side["stamp"]) == node_id]
        entry["mine"] = mine[0] if mine else None
    else:
        entry["deleted_at"] = _when(conflict["deleted"]["stamp"])
        entry["edited"] = conflict["edited"]
        entry["mine"] = (
            "deleted"
            if stamp_node(conflict["deleted"]["stamp"]) == node_id
            else ("edited" if any(stamp_node(e["stamp"]) == node_id for e in conflict["edited"].values()) else None)
        )
    return entry


def list_conflicts(store: Store) -> list[dict[str, Any]]:
    """Every open conflict on this device, oldest first. Blocking: call it from a worker thread."""
    node_id = store.node_id
    found = [describe(envelope, cid, conflict, node_id) for envelope, cid, conflict in store.open_conflicts()]
    return sorted(found, key=lambda entry: (entry["opened_at"] or "", entry["record"], entry["cid"]))


def check_typed_value(store: Store, record_id: str, cid: str, value: Any) -> None:
    """Raise ValidationError when ``value`` breaks the rules of the conflict's field (the rules every edit of the
    record is checked with): the town server would refuse it, and the conflict would come back."""
    envelope = store.get(record_id)
    conflict = (envelope or {}).get("conflicts", {}).get(cid)
    if envelope is None or conflict is None or conflict.get("type") != "value":
        return  # the store says what is wrong with the record or the conflict
    field, kind = conflict["field"], envelope["kind"]
    try:
        validate_record(kind, normalize_values(kind, {field: value}), view(envelope))
    except ValidationError as error:
        about_field = [problem for problem in error.errors if problem.field == field]
        if about_field:
            raise ValidationError(about_field, kind) from None


def resolve(store: Store, record_id: str, cid: str, choice: str, value: Any = None) -> Any:
    """Close a conflict with ``mine``, ``theirs`` or a typed ``value``; the next sync spreads it. Blocking."""
    if choice not in CHOICES:
        raise ValueError(f"choice must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "value":
        check_typed_value(store, record_id, cid, value)
        return store.resolve_conflict(record_id, cid, choice="value", value=value)
    if value is not None:
        raise ValueError("a value only goes with choice 'value'")
    return store.resolve_conflict(record_id, cid, choice=choice)
