"""The outbox: local changes waiting for the town server, the batch in flight, and changes it refused.

Three tables: ``pending`` (one entry per unsent change, in order of first edit: the change to send and, kept only
here, the *prior* state of every register, set element and conflict it touched), ``inflight`` (at most one frozen
batch: the ids of the pending entries it holds, sent again unchanged until acknowledged) and ``refused`` (changes
the server would not take, with its code and reason). An edit to a record whose entry is in flight opens a new
entry, so the frozen batch never changes. Freezing a batch writes only the entry ids: a small frame whatever the
size of the changes.

The prior is never sent: when the server refuses a change, the registers that still carry the refused stamp are
put back as they were, so the tablet agrees with the server again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from field_agent.domain.envelope import change_stamps, coalesce
from field_agent.domain.ids import new_id
from field_agent.store.errors import OutboxError
from field_agent.store.rollback import fold_prior, rebase_after_refusal, restore_refused
from field_agent.store.tinydb_seam import DeltaTable

INFLIGHT_KEY = "batch"
RESULT_STATUSES = ("applied", "conflict", "refused")


def _copy(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


class Outbox:
    """Outbox operations over the store's tables; callers wrap them in the store's batch for one frame."""

    def __init__(self, pending: DeltaTable, inflight: DeltaTable, refused: DeltaTable, records: DeltaTable) -> None:
        self.pending = pending
        self.inflight = inflight
        self.refused = refused
        self.records = records
        self._open: dict[str, str] | None = None  # record id -> its pending entry not in flight
        self._frozen: dict[str, str] = {}  # record id -> its entry in the batch in flight

    # -- the in-memory maps (derived from the tables; rebuilt after a rolled-back save) ------------------------

    def invalidate(self) -> None:
        self._open = None

    def _maps(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._open is None:
            batch = self.inflight.raw(INFLIGHT_KEY)
            frozen_ids = set(batch.get("entries", ())) if batch is not None else set()
            opened: dict[str, str] = {}
            frozen: dict[str, str] = {}
            for entry_id, entry in self.pending.documents().items():
                record_id = entry["change"]["record"]
                (frozen if entry_id in frozen_ids else opened)[record_id] = entry_id
            self._open, self._frozen = opened, frozen
        return self._open, self._frozen

    def _batch_entries(self, batch: Mapping[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
        """(entry id, entry) of a frozen batch; a batch frozen by an older version holds its changes inline."""
        if "changes" in batch:
            return [(None, {"change": change}) for change in batch["changes"]]
        table = self.pending.documents()
        return [(entry_id, table[entry_id]) for entry_id in batch["entries"] if entry_id in table]

    # -- queueing ----------------------------------------------------------------------------------------------

    def add(self, change: Mapping[str, Any], prior: Mapping[str, Any]) -> None:
        """Queue a local change, folding it into the record's unsent change that is not in flight."""
        record_id = change["record"]
        opened, _ = self._maps()
        entry_id = opened.get(record_id)
        entry = self.pending.raw(entry_id) if entry_id is not None else None
        if entry_id is None or entry is None:
            entry_id = new_id()
            self.pending.put(entry_id, {"change": _copy(change), "prior": _copy(prior)})
            opened[record_id] = entry_id
            return
        self.pending.put(
            entry_id,
            {"change": coalesce(entry["change"], change), "prior": fold_prior(entry.get("prior"), prior)},
        )

    def count(self) -> int:
        batch = self.inflight.raw(INFLIGHT_KEY)
        return len(self.pending.documents()) + (len(batch.get("changes", ())) if batch else 0)

    def unsent_registers(self, record_id: str) -> set[str]:
        """Registers of a record with a local edit the server has not acknowledged (pending or in flight)."""
        opened, frozen = self._maps()
        names: set[str] = set()
        for entry_id in (opened.get(record_id), frozen.get(record_id)):
            entry = self.pending.raw(entry_id) if entry_id is not None else None
            if entry is not None:
                names.update(entry["change"]["fields"])
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is not None and "changes" in batch:
            for change in batch["changes"]:
                if change["record"] == record_id:
                    names.update(change["fields"])
        return names

    def unsent_stamps(self) -> set[str]:
        """Every stamp of a change not yet acknowledged (pending or in flight): none of them is known elsewhere."""
        changes = [entry["change"] for entry in self.pending.documents().values()]
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is not None and "changes" in batch:
            changes.extend(batch["changes"])
        return {stamp for change in changes for stamp in change_stamps(change)}

    def unsent_entries(self, record_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(entry id, entry) of a record's unsent changes, in flight first."""
        opened, frozen = self._maps()
        found: list[tuple[str, dict[str, Any]]] = []
        for entry_id in (frozen.get(record_id), opened.get(record_id)):
            entry = self.pending.raw(entry_id) if entry_id is not None else None
            if entry_id is not None and entry is not None:
                found.append((entry_id, entry))
        return found

    # -- batches -----------------------------------------------------------------------------------------------

    def in_flight(self) -> bool:
        return self.inflight.raw(INFLIGHT_KEY) is not None

    def current_batch(self) -> tuple[str, list[dict[str, Any]]] | None:
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is None:
            return None
        return batch["batch_id"], _copy([entry["change"] for _, entry in self._batch_entries(batch)])

    def freeze(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        """Freeze up to ``limit`` pending changes as the batch in flight (the caller commits it as one frame)."""
        if limit < 1:
            raise OutboxError(f"batch limit must be at least 1, not {limit}")
        opened, frozen = self._maps()
        if not opened:
            return None
        table = self.pending.documents()
        entry_ids: list[str] = []
        for entry_id in table:
            record_id = table[entry_id]["change"]["record"]
            if opened.get(record_id) == entry_id:
                entry_ids.append(entry_id)
                if len(entry_ids) == limit:
                    break
        batch_id = new_id()
        self.inflight.put(
            INFLIGHT_KEY, {"batch_id": batch_id, "entries": entry_ids, "frozen_ms": time.time_ns() // 10**6}
        )
        changes = [table[entry_id]["change"] for entry_id in entry_ids]
        for change, entry_id in zip(changes, entry_ids, strict=True):
            del opened[change["record"]]
            frozen[change["record"]] = entry_id
        return batch_id, _copy(changes)

    def acknowledge(self, batch_id: str, results: list[Mapping[str, Any]]) -> set[str]:
        """Settle the in-flight batch from the server's per-change results; return the records rolled back."""
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is None:
            return set()  # already acknowledged (a retried ack after a restart)
        if batch["batch_id"] != batch_id:
            raise OutboxError(f"batch {batch_id} is not the batch in flight ({batch['batch_id']})")
        by_record: dict[str, Mapping[str, Any]] = {}
        for answer in results:
            if answer.get("status") not in RESULT_STATUSES:
                raise OutboxError(f"unknown result status {answer.get('status')!r} for record {answer.get('record')}")
            by_record[answer["record"]] = answer
        now = time.time_ns() // 10**6
        entries = self._batch_entries(batch)
        answered = [entry_id for entry_id, entry in entries if entry["change"]["record"] in by_record]
        _, frozen = self._maps()
        self.inflight.delete(INFLIGHT_KEY)
        self.pending.delete_many([entry_id for entry_id in answered if entry_id is not None])
        frozen.clear()
        rolled_back: set[str] = set()
        for entry_id, entry in entries:
            change = entry["change"]
            result = by_record.get(change["record"])
            if result is None:
                self._requeue(entry_id, entry)
            elif result["status"] == "refused":
                self.refused.put(
                    new_id(),
                    {
                        "change": _copy(change),
                        "code": result.get("code") or "refused",
                        "reason": result.get("reason") or "",
                        "batch_id": batch_id,
                        "refused_ms": now,
                    },
                )
                if self._roll_back(entry):
                    rolled_back.add(change["record"])
        return rolled_back

    def _requeue(self, entry_id: str | None, entry: Mapping[str, Any]) -> None:
        """A change the server did not answer keeps its place in the queue; a newer edit is folded into it."""
        record_id = entry["change"]["record"]
        opened, _ = self._maps()
        newer_id = opened.get(record_id)
        newer = self.pending.raw(newer_id) if newer_id is not None else None
        if newer_id is None or newer is None:
            if entry_id is None:  # from a batch frozen by an older version
                entry_id = new_id()
                self.pending.put(entry_id, {"change": _copy(entry["change"]), "prior": None})
        else:
            entry_id = entry_id or new_id()
            self.pending.put(
                entry_id,
                {
                    "change": coalesce(entry["change"], newer["change"]),
                    "prior": fold_prior(entry.get("prior"), newer.get("prior")),
                },
            )
            self.pending.delete(newer_id)
        opened[record_id] = entry_id

    def _roll_back(self, entry: Mapping[str, Any]) -> bool:
        """Put back what a refused change overwrote, where nothing newer was written since; True if changed."""
        change, prior = entry["change"], entry.get("prior")
        if prior is None:
            return False  # queued by a version that did not keep priors
        record_id = change["record"]
        envelope = self.records.raw(record_id)
        changed = False
        if envelope is not None:
            restored = restore_refused(envelope, change, prior)
            if restored is not None:
                if restored["stamps"] or any(restored["sets"].values()) or restored["conflicts"]:
                    self.records.put(record_id, restored)
                else:
                    self.records.delete(record_id)  # created here and refused: the server never had it
                changed = True
        opened, _ = self._maps()
        newer_id = opened.get(record_id)
        newer = self.pending.raw(newer_id) if newer_id is not None else None
        if newer_id is not None and newer is not None:
            self.pending.put(newer_id, rebase_after_refusal(newer, change, prior))
        return changed

    def refused_list(self) -> list[dict[str, Any]]:
        return [{"id": entry_id, **_copy(entry)} for entry_id, entry in self.refused.documents().items()]
