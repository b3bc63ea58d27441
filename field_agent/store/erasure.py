"""Erasure ordered by the town's retention rule (PIPL Art. 47), as the server's erasure markers arrive in a pull.

A marker names a record erased as a whole (``fields`` None) or fields of it cleared (``{name: stamp}``, the server's
stamp that cleared each). The tablet then forgets, in the same commit as the pull page:

- a whole record: the record (tombstone or not), its unsent changes and its refused changes, values included;
- cleared fields: their values (set to None under the server's stamp, unless this tablet wrote a newer value),
  every conflict on them, unsent writes to them older than the erasure and the values kept as their priors, and
  refused writes to them.

The frames that held the values are still in the log after that commit; ``Store.compact_if_erased`` (run by the
sync agent after the pull, and on the next open if it was cut off) rewrites the log as one snapshot, so no frame
on disk holds them any more. A record whose change is in the batch in flight cannot change under it: its marker
waits in ``meta`` and is applied at the next pull (the push that runs first settles the batch).

Unsent edits of an erased record are dropped, not sent: the server refuses them (``purged``), since the data is
not to be kept. The sync result says how many (``erased_unsent``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from field_agent.store.core import StoreCore

WAITING_KEY = "erase_waiting"
COMPACT_KEY = "erase_compact_due"
NOTES_KEY = "erasures"


@dataclass
class ErasureCounts:
    erased: int = 0  # records erased whole, or whose fields were cleared
    unsent: int = 0  # unsent or refused changes dropped with them


def erase_marked(core: StoreCore, markers: Iterable[Mapping[str, Any]]) -> ErasureCounts:
    """Apply erasure markers (inside the caller's ``storage.batch()``); returns what was erased."""
    counts = ErasureCounts()
    waiting: list[dict[str, Any]] = []
    notes: dict[str, Any] | None = None
    for marker in [*(core.meta_get(WAITING_KEY) or []), *markers]:
        record_id = marker["id"]
        _, frozen = core.outbox._maps()
        if record_id in frozen:
            waiting.append(dict(marker))
            continue
        if marker.get("fields") is None:
            _erase_record(core, record_id, counts)
        else:
            _clear_fields(core, record_id, marker["fields"], counts)
        if notes is None:
            notes = core.meta_get(NOTES_KEY) or {}
        _note(notes, marker)
    if notes is not None:
        core.meta.put(NOTES_KEY, {"v": notes})
        core.meta.put(COMPACT_KEY, {"v": True})
    if waiting or core.meta_get(WAITING_KEY):
        core.meta.put(WAITING_KEY, {"v": waiting})
    return counts


def _note(notes: dict[str, Any], marker: Mapping[str, Any]) -> None:
    """What the ledgers may say about an erasure: which round's or resident's data, and when (no value, no id of
    the erased record itself)."""
    day_ms = int(marker.get("purged_ms") or 0)
    notes["count"] = int(notes.get("count", 0)) + 1
    notes["last_ms"] = max(int(notes.get("last_ms", 0)), day_ms)
    parent = marker.get("parent")
    if isinstance(parent, str):
        by_kind = notes.setdefault("parents", {}).setdefault(parent, {})
        by_kind[marker["kind"]] = max(int(by_kind.get(marker["kind"], 0)), day_ms)


def _refused_of(core: StoreCore, record_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (entry_id, entry)
        for entry_id, entry in core.outbox.refused.documents().items()
        if entry["change"]["record"] == record_id
    ]


def _erase_record(core: StoreCore, record_id: str, counts: ErasureCounts) -> None:
    outbox = core.outbox
    entries = outbox.unsent_entries(record_id)
    refused = _refused_of(core, record_id)
    if entries:
        outbox.pending.delete_many([entry_id for entry_id, _ in entries])
        opened, _ = outbox._maps()
        opened.pop(record_id, None)
    if refused:
        outbox.refused.delete_many([entry_id for entry_id, _ in refused])
    counts.unsent += len(entries) + len(refused)
    if core.records.raw(record_id) is not None:
        core.records.delete(record_id)
        core.touched.add(record_id)
    counts.erased += 1


def _clear_fields(core: StoreCore, record_id: str, cleared: Mapping[str, str], counts: ErasureCounts) -> None:
    envelope = core.records.raw(record_id)
    if envelope is not None:
        updated = copy.deepcopy(envelope)
        for name, stamp in cleared.items():
            if updated["stamps"].get(name, "") < stamp:
                updated["fields"][name] = None
                updated["stamps"][name] = stamp
        updated["conflicts"] = {
            cid: conflict for cid, conflict in updated["conflicts"].items() if conflict.get("field") not in cleared
        }
        if updated != envelope:
            core.records.put(record_id, updated)
            core.touched.add(record_id)
        counts.erased += 1
    for entry_id, entry in core.outbox.unsent_entries(record_id):
        scrubbed = _scrub(entry, cleared)
        if scrubbed is None:
            core.outbox.pending.delete(entry_id)
            opened, _ = core.outbox._maps()
            if opened.get(record_id) == entry_id:
                del opened[record_id]
            counts.unsent += 1
        elif scrubbed != entry:
            core.outbox.pending.put(entry_id, scrubbed)
            counts.unsent += 1
    for entry_id, entry in _refused_of(core, record_id):
        scrubbed = _scrub(entry, cleared, refused=True)
        if scrubbed is None:
            core.outbox.refused.delete(entry_id)
        elif scrubbed != entry:
            core.outbox.refused.put(entry_id, scrubbed)
        if scrubbed != entry:
            counts.unsent += 1


def _scrub(entry: Mapping[str, Any], cleared: Mapping[str, str], *, refused: bool = False) -> dict[str, Any] | None:
    """An outbox entry without the writes the erasure overrode (all of them for a refused change) and without the
    erased values in its prior; None when nothing is left to send."""
    scrubbed = copy.deepcopy(dict(entry))
    change = scrubbed["change"]
    for name, stamp in cleared.items():
        write = change["fields"].get(name)
        if write is not None and (refused or write["stamp"] < stamp):
            del change["fields"][name]
            change.get("base", {}).pop(name, None)
        prior = (scrubbed.get("prior") or {}).get("fields", {})
        if prior.get(name) is not None:
            prior[name] = [None, stamp]
    if not change["fields"] and not any(change["sets"].values()) and not change.get("resolve"):
        return None
    return scrubbed
