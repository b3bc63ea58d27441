"""The merge rules, shared by the sync agent and the town server so both sides decide alike.

Registers: the greater stamp wins (stamps never tie: the node id is part of them). Sets: each element is its own
register. Conflicts: opened only by the server (the single place that sees every change in one order), merged by
union, a conflict's ``resolved`` stamp by maximum. The join is commutative, associative and idempotent.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import DELETED, new_envelope
from field_agent.domain.hlc import stamp_node


class MergeRefused(ValueError):
    """A change that cannot apply to the record it names (wrong kind or grid)."""


@dataclass
class ChangeOutcome:
    """What applying one change did: ``applied`` or ``conflict`` (with the conflicts it opened)."""

    status: str = "applied"
    conflicts: list[str] = field(default_factory=list)
    changed: bool = False


def _max_stamp(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def merge_conflicts(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(ours))
    for cid, conflict in theirs.items():
        if cid not in merged:
            merged[cid] = copy.deepcopy(conflict)
        else:
            merged[cid]["resolved"] = _max_stamp(merged[cid].get("resolved"), conflict.get("resolved"))
    return merged


def merge_envelopes(
    ours: Mapping[str, Any],
    theirs: Mapping[str, Any],
    keep_ours: Collection[str] = (),
) -> dict[str, Any]:
    """Join two replicas of one record. Registers named in ``keep_ours`` (pending local edits) keep our value."""
    if ours["id"] != theirs["id"]:
        raise MergeRefused(f"cannot merge record {ours['id']} with {theirs['id']}")
    merged = copy.deepcopy(dict(ours))
    for name, stamp in theirs["stamps"].items():
        if name in keep_ours:
            continue
        current = merged["stamps"].get(name)
        if current is None or stamp > current:
            merged["stamps"][name] = stamp
            merged["fields"][name] = copy.deepcopy(theirs["fields"].get(name))
    for name, elements in theirs["sets"].items():
        members = merged["sets"].setdefault(name, {})
        for element, (stamp, present) in elements.items():
            current = members.get(element)
            if current is None or stamp > current[0]:
                members[element] = [stamp, present]
    merged["conflicts"] = merge_conflicts(merged.get("conflicts", {}), theirs.get("conflicts", {}))
    return merged


def _open_conflict(envelope: dict[str, Any], cid: str, body: dict[str, Any], outcome: ChangeOutcome) -> None:
    if cid in envelope["conflicts"]:
        return
    envelope["conflicts"][cid] = {**body, "resolved": None}
    outcome.status = "conflict"
    outcome.conflicts.append(cid)


def apply_change(
    envelope: Mapping[str, Any] | None, change: Mapping[str, Any], *, owned: bool = False
) -> tuple[dict[str, Any], ChangeOutcome]:
    """Apply a device's change to the server's copy of a record; detect true conflicts.

    A register whose base (the stamp the device replaced) is not the server's current stamp, and whose values
    differ, was changed by two people who had not seen each other's edit: the greater stamp still wins, and the
    other value is kept on the record as an open conflict. Deleting a record someone edited unseen, or editing one
    someone deleted unseen, is a conflict too (the deletion register has no value conflicts of its own).
    Conflict ids derive from the change's stamps, so applying the same change twice changes nothing.
    With ``owned=True`` the caller hands ``envelope`` over and it is updated in place instead of copied.
    """
    if envelope is None:
        current = new_envelope(change["record"], change["kind"], change["grid"])
    else:
        if envelope["kind"] != change["kind"] or envelope["grid"] != change["grid"]:
            raise MergeRefused(
                f"record {change['record']} is a {envelope['kind']} of grid {envelope['grid']}; "
                f"the change says {change['kind']} of grid {change['grid']}"
            )
        # The server hands over an envelope it has just read: updating it in place saves a deep copy.
        current = envelope if owned and isinstance(envelope, dict) else copy.deepcopy(dict(envelope))
    outcome = ChangeOutcome()
    base: Mapping[str, str] = change.get("base", {})
    writes: Mapping[str, Any] = change["fields"]
    _detect_delete_conflict(current, change, base, writes, outcome)

    for name, entry in writes.items():
        stamp, value = entry["stamp"], entry["value"]
        existing = current["stamps"].get(name)
        if existing == stamp:
            continue
        if (
            name != DELETED
            and existing is not None
            and base.get(name) != existing
            and current["fields"].get(name) != value
        ):
            ours = {"value": copy.deepcopy(current["fields"].get(name)), "stamp": existing}
            theirs = {"value": copy.deepcopy(value), "stamp": stamp}
            winner, loser = (theirs, ours) if stamp > existing else (ours, theirs)
            _open_conflict(
                current,
                f"{name}@{loser['stamp']}",
                {"field": name, "type": "value", "winner": winner, "loser": loser, "opened": stamp},
                outcome,
            )
        if existing is None or stamp > existing:
            current["fields"][name] = copy.deepcopy(value)
            current["stamps"][name] = stamp
            outcome.changed = True

    for name, elements in change["sets"].items():
        members = current["sets"].setdefault(name, {})
        for element, entry in elements.items():
            existing_element = members.get(element)
            if existing_element is None or entry["stamp"] > existing_element[0]:
                members[element] = [entry["stamp"], bool(entry["present"])]
                outcome.changed = True

    for cid, stamp in change.get("resolve", {}).items():
        conflict = current["conflicts"].get(cid)
        if conflict is not None and (conflict.get("resolved") is None or stamp > conflict["resolved"]):
            conflict["resolved"] = stamp
            outcome.changed = True
    outcome.changed = outcome.changed or bool(outcome.conflicts)
    return current, outcome


def _detect_delete_conflict(
    current: dict[str, Any],
    change: Mapping[str, Any],
    base: Mapping[str, str],
    writes: Mapping[str, Any],
    outcome: ChangeOutcome,
) -> None:
    deleting = writes.get(DELETED, {}).get("value") is True
    deleted_here = bool(current["fields"].get(DELETED))
    if deleting and not deleted_here:
        delete_stamp = writes[DELETED]["stamp"]
        if current["stamps"].get(DELETED) == delete_stamp:
            return
        unseen = {
            name: {"value": copy.deepcopy(current["fields"].get(name)), "stamp": stamp}
            for name, stamp in current["stamps"].items()
            if name != DELETED and name not in writes and base.get(name) != stamp
        }
        if unseen:
            _open_conflict(
                current,
                f"{DELETED}@{delete_stamp}",
                {
                    "field": DELETED,
                    "type": "delete",
                    "deleted": {"stamp": delete_stamp},
                    "edited": unseen,
                    "opened": delete_stamp,
                },
                outcome,
            )
    elif deleted_here and not deleting and (writes or change["sets"]):
        deleted_stamp = current["stamps"].get(DELETED)
        if base.get(DELETED) == deleted_stamp:
            return
        edited = {name: copy.deepcopy(entry) for name, entry in writes.items() if name != DELETED}
        stamps = [entry["stamp"] for entry in edited.values()] + [
            entry["stamp"] for elements in change["sets"].values() for entry in elements.values()
        ]
        if not stamps or (
            all(current["stamps"].get(n) == e["stamp"] for n, e in edited.items()) and not change["sets"]
        ):
            return
        edit_stamp = max(stamps)
        _open_conflict(
            current,
            f"{DELETED}@{edit_stamp}",
            {
                "field": DELETED,
                "type": "delete",
                "deleted": {"stamp": deleted_stamp},
                "edited": edited,
                "opened": edit_stamp,
            },
            outcome,
        )


def conflict_parties(conflict: Mapping[str, Any]) -> list[str]:
    """The node ids whose edits clashed, for showing who changed what."""
    if conflict["type"] == "value":
        return [stamp_node(conflict["winner"]["stamp"]), stamp_node(conflict["loser"]["stamp"])]
    return [
        stamp_node(conflict["deleted"]["stamp"]),
        *(stamp_node(e["stamp"]) for e in conflict["edited"].values()),
    ]
