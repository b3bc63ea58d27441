"""The merge rules, shared by the sync agent and the town server so both sides decide alike.

Registers: the greater stamp wins (stamps never tie: the node id is part of them). Sets: each element is its own
register. Conflicts: opened only by the server (the single place that sees every change in one order), merged by
union, every part of one conflict by maximum, so concurrent changes give the same record in any arrival order. The
join is commutative, associative and idempotent. The rules in words: docs/SYNC.md, "Merge rules".
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import DELETED, is_moot, new_envelope
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
    """Union of two conflict maps; one conflict known to both takes the later of every side (see _join_conflict)."""
    merged = copy.deepcopy(dict(ours))
    for cid, conflict in theirs.items():
        if cid not in merged:
            merged[cid] = copy.deepcopy(conflict)
        else:
            _join_conflict(merged[cid], conflict)
    return merged


def _join_conflict(target: dict[str, Any], other: Mapping[str, Any]) -> bool:
    """Fold ``other`` (the same conflict as seen elsewhere) into ``target``; True if ``target`` changed.

    A value conflict's winner is the greatest of the writes that overruled the loser unseen; a delete conflict's
    deletion is the greatest deletion, and each edited register the greatest edit; ``opened`` follows them
    (the write that keeps the conflict open); ``resolved`` is the latest resolution. Each is a maximum, so the
    result does not depend on the order in which replicas or changes meet."""
    changed = False
    kind = target.get("type") if target.get("type") == other.get("type") else None
    if kind == "value" and "winner" in target and "winner" in other:
        if other["winner"]["stamp"] > target["winner"]["stamp"]:
            target["winner"] = copy.deepcopy(other["winner"])
            changed = True
    elif kind == "delete" and "deleted" in target and "deleted" in other:
        if other["deleted"]["stamp"] > target["deleted"]["stamp"]:
            target["deleted"] = copy.deepcopy(other["deleted"])
            changed = True
        edited = target["edited"]
        for name, entry in other["edited"].items():
            if name not in edited or entry["stamp"] > edited[name]["stamp"]:
                edited[name] = copy.deepcopy(entry)
                changed = True
    opened = _max_stamp(target.get("opened"), other.get("opened"))
    if opened != target.get("opened"):
        target["opened"] = opened
        changed = True
    resolved = _max_stamp(target.get("resolved"), other.get("resolved"))
    if resolved != target.get("resolved"):
        target["resolved"] = resolved
        changed = True
    return changed


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
    """Open a conflict, or fold this sighting into the one already open under its id."""
    existing = envelope["conflicts"].get(cid)
    if existing is None:
        envelope["conflicts"][cid] = {**body, "resolved": None}
        outcome.changed = True
        if not is_moot(body):
            outcome.status = "conflict"
            outcome.conflicts.append(cid)
    else:
        was_moot = is_moot(existing)
        if _join_conflict(existing, body):
            outcome.changed = True
            if was_moot and not is_moot(existing) and not existing.get("resolved"):
                outcome.status = "conflict"
                outcome.conflicts.append(cid)


def apply_change(
    envelope: Mapping[str, Any] | None, change: Mapping[str, Any], *, owned: bool = False
) -> tuple[dict[str, Any], ChangeOutcome]:
    """Apply a device's change to the server's copy of a record; detect true conflicts.

    A register whose base (the stamp the device replaced) is not the server's current stamp was changed by two
    people who had not seen each other's edit: the greater stamp still wins, and the other write is kept on the
    record as a conflict ``field@loser-stamp`` (open when the values differ). A write stamped below the value it
    had seen and replaced (a clock set back) is kept the same way rather than lost. Deleting a record someone
    edited unseen, or editing one someone deleted unseen, is one ``_deleted@epoch`` conflict. Every part of a
    conflict is a maximum over the writes involved, so concurrent changes give the same record in any order, and
    applying the same change twice changes nothing.
    With ``owned=True`` the caller hands ``envelope`` over and it is updated in place instead of copied.
    """
    if envelope is None:
        delete_write = change["fields"].get(DELETED)
        if delete_write is None or delete_write["value"] is not True:
            return _created(change)
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
        if name != DELETED and existing is not None and not (base.get(name) == existing and stamp > existing):
            # Written without seeing the current value (or, after a clock went wrong, stamped below the very value
            # it replaced): the greater stamp still wins, the other write is kept as a conflict.
            ours = {"value": copy.deepcopy(current["fields"].get(name)), "stamp": existing}
            theirs = {"value": copy.deepcopy(value), "stamp": stamp}
            winner, loser = (theirs, ours) if stamp > existing else (ours, theirs)
            if winner is theirs:
                _take_over(current, name, existing, theirs, base.get(name), outcome)
            elif f"{name}@{stamp}" in current["conflicts"]:
                continue  # this write lost before: a change sent again, however late, changes nothing
            _open_conflict(
                current,
                f"{name}@{loser['stamp']}",
                {
                    "field": name,
                    "type": "value",
                    "winner": winner,
                    "loser": loser,
                    "opened": winner["stamp"],
                },
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
    return current, outcome


def _created(change: Mapping[str, Any]) -> tuple[dict[str, Any], ChangeOutcome]:
    """``apply_change(None, change)`` for a change that does not delete: nothing to merge and no conflict to find,
    so the envelope is built directly (most of a nightly push is new records). The same envelope, byte for byte,
    as the general path gives from ``new_envelope`` (tests/protocol/test_merge.py checks it with hypothesis); a
    change that deletes takes the general path, which keeps the deletion's ``_deleted@…`` marker."""
    fields: dict[str, Any] = {}
    stamps: dict[str, str] = {}
    for name, write in change["fields"].items():
        value = write["value"]
        # like the general path, never share a mutable value with the change it came from
        fields[name] = value if type(value) in _IMMUTABLE else copy.deepcopy(value)
        stamps[name] = write["stamp"]
    sets = {
        name: {element: [write["stamp"], bool(write["present"])] for element, write in elements.items()}
        for name, elements in change["sets"].items()
    }
    envelope = {
        "id": change["record"],
        "kind": change["kind"],
        "grid": change["grid"],
        "fields": fields,
        "stamps": stamps,
        "sets": sets,
        "conflicts": {},
    }
    return envelope, ChangeOutcome(changed=bool(fields) or any(sets.values()))


_IMMUTABLE = (str, int, float, bool, type(None))


def _take_over(
    current: dict[str, Any],
    name: str,
    beaten: str,
    write: Mapping[str, Any],
    seen: str | None,
    outcome: ChangeOutcome,
) -> None:
    """A write that beats the current value unseen also overrules what that value had overruled: it becomes the
    winner of those conflicts (unless it had seen their loser), so their winner does not depend on arrival order."""
    for conflict in current["conflicts"].values():
        if (
            conflict.get("type") == "value"
            and conflict.get("field") == name
            and conflict.get("winner", {}).get("stamp") == beaten
            and (seen is None or seen < conflict["loser"]["stamp"])
        ):
            conflict["winner"] = copy.deepcopy(dict(write))
            conflict["opened"] = _max_stamp(conflict.get("opened"), write["stamp"])
            outcome.changed = True


def _detect_delete_conflict(
    current: dict[str, Any],
    change: Mapping[str, Any],
    base: Mapping[str, str],
    writes: Mapping[str, Any],
    outcome: ChangeOutcome,
) -> None:
    """Deletion against edits that had not seen each other: one conflict per deletion epoch.

    Its id is ``_deleted@<epoch>``, the epoch being the ``_deleted`` stamp both sides had seen (``live`` for a
    record never deleted), so the deletion arriving first or last opens the same conflict; it lists the greatest
    deletion and, per register, the greatest edit the deletion had not seen. Set elements are not part of it."""
    deleted_stamp = current["stamps"].get(DELETED)
    delete_write = writes.get(DELETED)
    deletion: str | None = delete_write["stamp"] if delete_write is not None and delete_write["value"] is True else None
    deleting = deletion is not None
    if deleting and deleted_stamp == deletion:
        return  # this deletion again
    deleted_unseen = bool(current["fields"].get(DELETED)) and base.get(DELETED) != deleted_stamp
    if not (deleting or deleted_unseen or current["conflicts"]):
        return  # the common case: no deletion anywhere near this change
    epoch = f"{DELETED}@{base.get(DELETED) or 'live'}"
    own = {name: entry for name, entry in writes.items() if name != DELETED}
    if own:  # this change's edits, unseen by a deletion made from the same state, or by the one in force here
        known = current["conflicts"].get(epoch)
        # (unless that deletion is this change's own, sent again: its own edits are its decision)
        own_deletion = deleting and known is not None and known["deleted"]["stamp"] == deletion
        targets = {epoch} if known is not None and not own_deletion else set()
        if deleted_unseen:
            targets.add(_conflict_of_deletion(current, deleted_stamp) or epoch)
        for cid in sorted(targets):
            against = current["conflicts"][cid]["deleted"]["stamp"] if cid in current["conflicts"] else deleted_stamp
            edited = {name: {"value": copy.deepcopy(e["value"]), "stamp": e["stamp"]} for name, e in own.items()}
            _open_delete_conflict(current, cid, against, edited, outcome)
    if (
        deletion is not None
    ):  # the deletion is kept on the record even when it saw everything: a later edit it had not seen
        unseen = {  # (arriving after a restore) must find it, as it would have in any other order
            name: {"value": copy.deepcopy(current["fields"].get(name)), "stamp": stamp}
            for name, stamp in current["stamps"].items()
            if name != DELETED and base.get(name) != stamp and own.get(name, {}).get("stamp") != stamp
        }
        _open_delete_conflict(current, epoch, deletion, unseen, outcome)


def _conflict_of_deletion(current: Mapping[str, Any], deletion: str) -> str | None:
    """The id of the delete conflict a deletion opened, if any."""
    for cid, conflict in current["conflicts"].items():
        if conflict.get("type") == "delete" and conflict.get("deleted", {}).get("stamp") == deletion:
            return cid
    return None


def _open_delete_conflict(
    current: dict[str, Any], cid: str, deletion: str, edited: dict[str, Any], outcome: ChangeOutcome
) -> None:
    body = {"field": DELETED, "type": "delete", "deleted": {"stamp": deletion}, "edited": edited, "opened": deletion}
    _open_conflict(current, cid, body, outcome)


def conflict_parties(conflict: Mapping[str, Any]) -> list[str]:
    """The node ids whose edits clashed, for showing who changed what."""
    if conflict["type"] == "value":
        return [stamp_node(conflict["winner"]["stamp"]), stamp_node(conflict["loser"]["stamp"])]
    return [
        stamp_node(conflict["deleted"]["stamp"]),
        *(stamp_node(e["stamp"]) for e in conflict["edited"].values()),
    ]
