"""An in-memory stand-in for field_agent.store.Store with the methods the sync agent uses (tests only)."""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator
from typing import Any

from field_agent.domain.envelope import DELETED, coalesce, local_edit, open_conflicts
from field_agent.domain.hlc import HybridClock, stamp_node, wall_ms
from field_agent.domain.ids import new_id, new_node_id
from field_agent.protocol.merge import merge_envelopes

_batches = itertools.count(1)


class MemStore:
    """Outbox with coalescing, one in-flight batch until acked, pulled pages merged keeping pending registers."""

    def __init__(self, grid: str = "g1", node_id: str | None = None, now_ms: Any = wall_ms) -> None:
        self.node_id = node_id or new_node_id()
        self.clock = HybridClock(self.node_id, now_ms=now_ms)
        self.grid = grid
        self.meta: dict[str, Any] = {"grid": grid}
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.outbox: dict[str, dict[str, Any]] = {}
        self.inflight: tuple[str, list[dict[str, Any]]] | None = None
        self.refused: list[dict[str, Any]] = []
        self.commits = 0
        self._batch_depth = 0

    def meta_get(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self.meta.get(key, default))

    def meta_set(self, key: str, value: Any) -> None:
        self.meta[key] = copy.deepcopy(value)

    def edit(
        self,
        record_id: str | None = None,
        kind: str = "household",
        values: dict[str, Any] | None = None,
        set_changes: dict[str, dict[str, bool]] | None = None,
        resolve: tuple[str, ...] = (),
    ) -> str:
        record_id = record_id or new_id()
        envelope, change = local_edit(
            self.envelopes.get(record_id),
            self.clock,
            record_id=record_id,
            kind=kind,
            grid=self.grid,
            values=values,
            set_changes=set_changes,
            resolve=resolve,
        )
        self.envelopes[record_id] = envelope
        if change is not None:
            older = self.outbox.get(record_id)
            self.outbox[record_id] = coalesce(older, change) if older is not None else change
        return record_id

    def put(self, kind: str, values: dict[str, Any], record_id: str | None = None) -> str:
        return self.edit(record_id, kind, values)

    def get(self, record_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.envelopes.get(record_id))

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [copy.deepcopy(e) for e in self.envelopes.values() if kind is None or e["kind"] == kind]

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside count as one commit; if the block raises, none of them is kept (like Store.batch)."""
        if self._batch_depth:
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1
            return
        saved = copy.deepcopy((self.outbox, self.inflight, self.refused, self.meta, self.envelopes))
        commits = self.commits
        self._batch_depth = 1
        try:
            yield
        except BaseException:
            self.outbox, self.inflight, self.refused, self.meta, self.envelopes = saved
            self.commits = commits
            raise
        finally:
            self._batch_depth = 0
        self.commits = commits + 1

    def pending_count(self) -> int:
        return len(self.outbox) + (len(self.inflight[1]) if self.inflight else 0)

    def next_batch(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        if self.inflight is None:
            if not self.outbox:
                return None
            ids = list(self.outbox)[:limit]
            self.inflight = (f"b{next(_batches):08d}{self.node_id}", [self.outbox.pop(i) for i in ids])
            self.commits += 1
        return self.inflight[0], copy.deepcopy(self.inflight[1])

    def ack_batch(self, batch_id: str, results: list[dict[str, Any]]) -> None:
        if self.inflight is None or self.inflight[0] != batch_id:
            raise KeyError(f"no batch {batch_id} in flight")
        for change, result in zip(self.inflight[1], results, strict=True):
            if result["status"] == "refused":
                self.refused.append(
                    {"id": new_id(), "change": change, "code": result.get("code"), "reason": result.get("reason")}
                )
        self.inflight = None
        self.commits += 1

    def _pending_registers(self, record_id: str) -> set[str]:
        names = set(self.outbox.get(record_id, {}).get("fields", {}))
        for change in self.inflight[1] if self.inflight else ():
            if change["record"] == record_id:
                names |= set(change["fields"])
        return names

    def apply_pulled(self, envelopes: list[dict[str, Any]], next_cursor: int) -> int:
        stamps = [s for e in envelopes for s in e["stamps"].values()]
        stamps += [entry[0] for e in envelopes for elements in e["sets"].values() for entry in elements.values()]
        if stamps:
            self.clock.observe(max(stamps))
        changed = 0
        for remote in envelopes:
            local = self.envelopes.get(remote["id"])
            merged = (
                copy.deepcopy(remote)
                if local is None
                else merge_envelopes(local, remote, keep_ours=self._pending_registers(remote["id"]))
            )
            if merged != local:
                changed += 1
                self.envelopes[remote["id"]] = merged
        self.meta["cursor"] = next_cursor
        self.commits += 1
        return changed

    def refused_changes(self) -> list[dict[str, Any]]:
        return list(self.refused)

    def open_conflicts(self) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
        return [
            (copy.deepcopy(e), cid, copy.deepcopy(c))
            for e in self.envelopes.values()
            for cid, c in sorted(open_conflicts(e).items())
        ]

    def resolve_conflict(self, record_id: str, cid: str, *, choice: str = "mine", value: Any = None) -> str:
        envelope = self.envelopes[record_id]
        conflict = envelope["conflicts"][cid]
        values: dict[str, Any] = {}
        if conflict["type"] == "value":
            sides = [conflict["winner"], conflict["loser"]]
            mine = next((s for s in sides if stamp_node(s["stamp"]) == self.node_id), conflict["winner"])
            theirs = conflict["loser"] if mine is conflict["winner"] else conflict["winner"]
            chosen = {"mine": mine, "theirs": theirs}.get(choice, {"value": value})["value"]
            values[conflict["field"]] = chosen
        else:
            i_deleted = stamp_node(conflict["deleted"]["stamp"]) == self.node_id
            keep_deleted = (choice == "mine") == i_deleted
            values[DELETED] = keep_deleted
            if not keep_deleted:
                values.update({name: entry["value"] for name, entry in conflict["edited"].items()})
        return self.edit(record_id, envelope["kind"], values=values, resolve=(cid,))
