"""The outbox: local changes waiting for the town server, the batch in flight, and changes it refused.

Three tables: ``pending`` (one coalesced change per record, in order of first edit), ``inflight`` (at most one
frozen batch, sent again unchanged until acknowledged) and ``refused`` (changes the server would not take, kept
with its code and reason so a person can look at them). Edits made while a batch is in flight go to ``pending``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from field_agent.domain.envelope import coalesce
from field_agent.domain.ids import new_id
from field_agent.store.errors import OutboxError
from field_agent.store.storage import DeltaTable

INFLIGHT_KEY = "batch"
RESULT_STATUSES = ("applied", "conflict", "refused")


def _copy(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


class Outbox:
    """Outbox operations over the store's tables; callers wrap them in the store's batch for one frame."""

    def __init__(self, pending: DeltaTable, inflight: DeltaTable, refused: DeltaTable) -> None:
        self.pending = pending
        self.inflight = inflight
        self.refused = refused

    def add(self, change: Mapping[str, Any]) -> None:
        """Queue a local change, folding it into an unsent change to the same record."""
        record_id = change["record"]
        entry = self.pending.raw(record_id)
        merged = coalesce(entry["change"], change) if entry is not None else _copy(change)
        self.pending.put(record_id, {"change": merged})

    def count(self) -> int:
        batch = self.inflight.raw(INFLIGHT_KEY)
        return len(self.pending._read_table()) + (len(batch["changes"]) if batch else 0)

    def unsent_registers(self, record_id: str) -> set[str]:
        """Registers of a record with a local edit the server has not acknowledged (pending or in flight)."""
        names: set[str] = set()
        entry = self.pending.raw(record_id)
        if entry is not None:
            names.update(entry["change"]["fields"])
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is not None:
            for change in batch["changes"]:
                if change["record"] == record_id:
                    names.update(change["fields"])
        return names

    def current_batch(self) -> tuple[str, list[dict[str, Any]]] | None:
        batch = self.inflight.raw(INFLIGHT_KEY)
        return (batch["batch_id"], _copy(batch["changes"])) if batch is not None else None

    def freeze(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        """Move up to ``limit`` pending changes into a new in-flight batch (the caller commits it as one frame)."""
        if limit < 1:
            raise OutboxError(f"batch limit must be at least 1, not {limit}")
        pending = self.pending._read_table()
        if not pending:
            return None
        record_ids = [record_id for record_id, _ in zip(pending, range(limit), strict=False)]
        changes = [_copy(pending[record_id]["change"]) for record_id in record_ids]
        batch_id = new_id()
        self.inflight.put(
            INFLIGHT_KEY, {"batch_id": batch_id, "changes": changes, "frozen_ms": time.time_ns() // 10**6}
        )
        for record_id in record_ids:
            self.pending.delete(record_id)
        return batch_id, _copy(changes)

    def acknowledge(self, batch_id: str, results: list[Mapping[str, Any]]) -> None:
        """Settle the in-flight batch from the server's per-change results."""
        batch = self.inflight.raw(INFLIGHT_KEY)
        if batch is None:
            return  # already acknowledged (a retried ack after a restart)
        if batch["batch_id"] != batch_id:
            raise OutboxError(f"batch {batch_id} is not the batch in flight ({batch['batch_id']})")
        by_record: dict[str, Mapping[str, Any]] = {}
        for result in results:
            if result.get("status") not in RESULT_STATUSES:
                raise OutboxError(f"unknown result status {result.get('status')!r} for record {result.get('record')}")
            by_record[result["record"]] = result
        now = time.time_ns() // 10**6
        for change in batch["changes"]:
            result = by_record.get(change["record"])
            if result is None:
                self._requeue(change)
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
        self.inflight.delete(INFLIGHT_KEY)

    def _requeue(self, change: Mapping[str, Any]) -> None:
        """A change the server did not answer goes back in front of any newer edit to the same record."""
        record_id = change["record"]
        entry = self.pending.raw(record_id)
        merged = coalesce(change, entry["change"]) if entry is not None else _copy(change)
        self.pending.put(record_id, {"change": merged})

    def refused_list(self) -> list[dict[str, Any]]:
        return [{"id": entry_id, **_copy(entry)} for entry_id, entry in self.refused._read_table().items()]
