"""The record envelope and local edits that stamp it.

An envelope is a JSON-ready dict::

    {"id": ..., "kind": ..., "grid": ...,
     "fields": {name: value},              # registers, including "_deleted"
     "stamps": {name: stamp},              # the HLC stamp that wrote each register
     "sets": {name: {element: [stamp, present]}},   # per-element last-writer-wins sets
     "conflicts": {conflict_id: {...}}}    # true conflicts, opened by the server

A local edit returns the new envelope and a *change*: what the device sends to the server::

    {"record": id, "kind": ..., "grid": ...,
     "fields": {name: {"value": v, "stamp": s}},
     "sets": {name: {element: {"present": bool, "stamp": s}}},
     "base": {name: stamp},                # the stamps this device had seen when it edited
     "resolve": {conflict_id: stamp}}      # conflicts a person closed
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

DELETED = "_deleted"
ENVELOPE_KEYS = ("id", "kind", "grid", "fields", "stamps", "sets", "conflicts")


class Clock(Protocol):
    def now(self) -> str: ...


def new_envelope(record_id: str, kind: str, grid: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "kind": kind,
        "grid": grid,
        "fields": {},
        "stamps": {},
        "sets": {},
        "conflicts": {},
    }


def is_deleted(envelope: Mapping[str, Any]) -> bool:
    return bool(envelope["fields"].get(DELETED, False))


def set_members(envelope: Mapping[str, Any], name: str) -> list[str]:
    """The present elements of a set field, sorted."""
    return sorted(element for element, (_, present) in envelope["sets"].get(name, {}).items() if present)


def open_conflicts(envelope: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Conflicts awaiting a person: not resolved, and (for a value conflict) between two different values; the
    server keeps a clash of equal values too, so that every arrival order stores the same conflicts."""
    return {cid: c for cid, c in envelope.get("conflicts", {}).items() if not c.get("resolved") and not is_moot(c)}


def is_moot(conflict: Mapping[str, Any]) -> bool:
    """Stored like any other conflict, never shown to a person: a value conflict between two equal values, or a
    deletion no edit was made against (kept so that an edit arriving later finds it, in any order)."""
    if conflict.get("type") == "delete":
        return not conflict.get("edited", True)
    if conflict.get("type") != "value":
        return False
    winner, loser = conflict.get("winner"), conflict.get("loser")
    return isinstance(winner, Mapping) and isinstance(loser, Mapping) and winner.get("value") == loser.get("value")


def view(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """A flat, read-only view of a record: its fields, sets as sorted lists, and its identity."""
    flat: dict[str, Any] = {k: v for k, v in envelope["fields"].items() if k != DELETED}
    for name in envelope["sets"]:
        flat[name] = set_members(envelope, name)
    flat.update(id=envelope["id"], kind=envelope["kind"], grid=envelope["grid"])
    if is_deleted(envelope):
        flat[DELETED] = True
    conflicts = open_conflicts(envelope)
    if conflicts:
        flat["_conflicts"] = sorted(conflicts)
    return flat


def local_edit(
    envelope: Mapping[str, Any] | None,
    clock: Clock,
    *,
    record_id: str,
    kind: str,
    grid: str,
    values: Mapping[str, Any] | None = None,
    set_changes: Mapping[str, Mapping[str, bool]] | None = None,
    resolve: Iterable[str] = (),
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Apply a device's own edit; return the new envelope and the change to sync (None if nothing changed).

    A register set to the value it already holds gets no new stamp; neither does a set element already in the
    asked-for state. Deleting (``values={"_deleted": True}``) records every stamp seen, so the server can tell
    whether someone edited the record unseen.
    """
    current = copy.deepcopy(dict(envelope)) if envelope is not None else new_envelope(record_id, kind, grid)
    if current["kind"] != kind or current["grid"] != grid:
        raise ValueError(f"record {record_id} is a {current['kind']} of grid {current['grid']}, not {kind}/{grid}")
    change: dict[str, Any] = {
        "record": record_id,
        "kind": kind,
        "grid": grid,
        "fields": {},
        "sets": {},
        "base": {},
    }
    seen = dict(current["stamps"])
    for name, value in (values or {}).items():
        if name in current["fields"] and current["fields"][name] == value:
            continue
        if name not in current["fields"] and name != DELETED and value is None:
            continue
        stamp = clock.now()
        current["fields"][name] = value
        current["stamps"][name] = stamp
        change["fields"][name] = {"value": value, "stamp": stamp}
    for name, elements in (set_changes or {}).items():
        members = current["sets"].get(name, {})
        for element, present in elements.items():
            existing = members.get(element)
            if (existing is not None and existing[1] == bool(present)) or (existing is None and not present):
                continue
            stamp = clock.now()
            members = current["sets"].setdefault(name, members)
            members[element] = [stamp, bool(present)]
            change["sets"].setdefault(name, {})[element] = {"present": bool(present), "stamp": stamp}
    resolved = {}
    for cid in resolve:
        conflict = current["conflicts"].get(cid)
        if conflict is None:
            raise KeyError(f"record {record_id} has no conflict {cid}")
        if not conflict.get("resolved"):
            conflict["resolved"] = clock.now()
            resolved[cid] = conflict["resolved"]
    if resolved:
        change["resolve"] = resolved
    if not change["fields"] and not change["sets"] and not resolved:
        return current, None
    base_names = set(change["fields"]) | {DELETED}
    if change["fields"].get(DELETED, {}).get("value"):
        base_names |= set(seen)
    change["base"] = {name: seen[name] for name in sorted(base_names) if name in seen}
    return current, change


def coalesce(older: Mapping[str, Any], newer: Mapping[str, Any]) -> dict[str, Any]:
    """Fold a later unsent change to the same record into an earlier one.

    A register's base stays the one of its first unsent edit (what the server last told this device); registers
    only the newer change touched or saw take the newer base, and what only the older change saw stays seen (a
    deletion saw every register: an edit after it must not make the device's own delete look blind).
    """
    if older["record"] != newer["record"]:
        raise ValueError("coalesce needs two changes to one record")
    merged = copy.deepcopy(dict(older))
    merged["fields"].update(copy.deepcopy(newer["fields"]))
    for name, elements in newer["sets"].items():
        merged["sets"].setdefault(name, {}).update(copy.deepcopy(elements))
    base = {**older.get("base", {}), **newer.get("base", {})}
    for name in older["fields"]:
        if name in older.get("base", {}):
            base[name] = older["base"][name]
        else:
            base.pop(name, None)
    merged["base"] = base
    resolve = {**older.get("resolve", {}), **newer.get("resolve", {})}
    if resolve:
        merged["resolve"] = resolve
    return merged


def change_stamps(change: Mapping[str, Any]) -> list[str]:
    """Every stamp a change carries, for clock checks."""
    stamps = [entry["stamp"] for entry in change["fields"].values()]
    for elements in change["sets"].values():
        stamps.extend(entry["stamp"] for entry in elements.values())
    stamps.extend(change.get("resolve", {}).values())
    return stamps
