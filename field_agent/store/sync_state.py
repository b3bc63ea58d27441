"""The store's side of sync: handing out push batches, settling them, applying pulled records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from field_agent.domain.envelope import ENVELOPE_KEYS
from field_agent.protocol.merge import merge_envelopes
from field_agent.store.erasure import COMPACT_KEY, WAITING_KEY, ErasureCounts, erase_marked
from field_agent.store.guard import locked
from field_agent.store.rollback import advance_prior

if TYPE_CHECKING:
    from field_agent.store.store import Store


def _plain(item: Any) -> dict[str, Any]:
    """Accept dicts or pydantic models (protocol.ChangeResult, protocol.Envelope)."""
    dump = getattr(item, "model_dump", None)
    return dump() if callable(dump) else dict(item)


def envelope_stamps(envelope: Mapping[str, Any]) -> list[str]:
    stamps = list(envelope["stamps"].values())
    for elements in envelope["sets"].values():
        stamps.extend(entry[0] for entry in elements.values())
    for conflict in envelope.get("conflicts", {}).values():
        if conflict.get("resolved"):
            stamps.append(conflict["resolved"])
    return stamps


def newest_stamp(envelope: Mapping[str, Any]) -> str | None:
    """The greatest stamp an envelope carries (its registers, set elements and conflict resolutions)."""
    stamps = envelope["stamps"]
    newest = max(stamps.values()) if stamps else None
    if envelope["sets"] or envelope.get("conflicts"):
        newest = max(envelope_stamps(envelope), default=None)
    return newest


_KEYS = set(ENVELOPE_KEYS)


def _added(total: ErasureCounts | None, more: ErasureCounts) -> ErasureCounts:
    if total is None:
        return more
    return ErasureCounts(total.erased + more.erased, total.unsent + more.unsent)


class SyncState:
    """Mixed into Store: outbox and pull methods for the sync agent."""

    @locked
    def pending_count(self: Store) -> int:
        """Local changes not yet acknowledged by the server (pending and in flight)."""
        return self.outbox.count()

    @locked
    def next_batch(self: Store, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        """The batch in flight, unchanged; else a new one of up to ``limit`` pending changes (durably frozen)."""
        self._check_open()
        current = self.outbox.current_batch()
        if current is not None:
            return current
        with self.storage.batch():
            return self.outbox.freeze(limit)

    @locked
    def ack_batch(self: Store, batch_id: str, results: list[Any]) -> None:
        """Settle the in-flight batch: applied/conflict leave the outbox, refused move aside (one commit)."""
        self._check_open()
        with self.storage.batch():
            self._touched.update(self.outbox.acknowledge(batch_id, [_plain(result) for result in results]))

    @locked
    def refused_changes(self: Store) -> list[dict[str, Any]]:
        """Changes the server refused, each with ``id``, ``change``, ``code`` and ``reason``."""
        return self.outbox.refused_list()

    @locked
    def discard_refused(self: Store, entry_id: str) -> None:
        """Forget a refused change once a person has dealt with it."""
        self._check_open()
        self.outbox.refused.delete(entry_id)

    @locked
    def apply_pulled(self: Store, envelopes: list[Any], next_cursor: int, purged: list[Any] | None = None) -> int:
        """Merge records pulled from the server and save the cursor, in one commit; return how many changed here.

        A register with a local edit the server has not acknowledged keeps the local value (the push that
        follows carries it, and the server decides). Every stamp seen moves the clock forward.
        """
        self._check_open()
        # one copy of the whole page: the caller's objects are never stored (they may be reused or changed)
        plain = orjson.loads(orjson.dumps([_plain(envelope) for envelope in envelopes]))
        newest = max((stamp for envelope in plain if (stamp := newest_stamp(envelope))), default=None)
        table = self._records.documents()
        updates: dict[str, dict[str, Any]] = {}
        with self.storage.batch():
            if newest is not None:
                self.clock.observe(newest)
            for remote in plain:
                if remote.keys() != _KEYS:
                    remote = {key: remote.get(key, {}) for key in ENVELOPE_KEYS}
                record_id = remote["id"]
                local = updates.get(record_id) or table.get(record_id)
                if local is None:
                    updates[record_id] = remote
                    continue
                merged = merge_envelopes(local, remote, keep_ours=self.outbox.unsent_registers(record_id))
                for entry_id, entry in self.outbox.unsent_entries(record_id):
                    prior = advance_prior(entry.get("prior"), remote)
                    if prior != entry.get("prior"):
                        self.outbox.pending.put(entry_id, {**entry, "prior": prior})
                if merged != local:
                    updates[record_id] = merged
            if updates:
                self._records.put_many(updates)
                self._touched.update(updates)
            if purged or self.meta_get(WAITING_KEY):
                counts = erase_marked(self, [_plain(marker) for marker in purged or ()])
                self._erasure_counts = _added(getattr(self, "_erasure_counts", None), counts)
            self._meta.put("cursor", {"v": int(next_cursor)})
            self._save_clock()
        return len(updates)

    @locked
    def take_erasure_counts(self: Store) -> ErasureCounts:
        """What erasure markers erased since the last call (records, and unsent or refused changes dropped)."""
        counts = getattr(self, "_erasure_counts", None) or ErasureCounts()
        self._erasure_counts = None
        return counts

    @locked
    def compact_if_erased(self: Store) -> bool:
        """After erasure markers were applied: rewrite the log as one snapshot, so that no frame on disk still holds
        an erased value. True if it compacted."""
        self._check_open()
        if not self.meta_get(COMPACT_KEY):
            return False
        self.storage.compact()  # first: if it fails (full disk) the flag stays, and the next sync or open retries
        self._meta.delete(COMPACT_KEY)  # a small frame naming the flag, no value
        return True

    @locked
    def status(self: Store) -> dict[str, Any]:
        """Counts per kind, pending and refused changes, open conflicts, last sync."""
        counts = {kind: len(ids - self.index.deleted) for kind, ids in sorted(self.index.by_kind.items()) if ids}
        return {
            "path": str(self.path),
            "node_id": self.node_id,
            "grid": self.grid,
            "counts": counts,
            "deleted": len(self.index.deleted),
            "pending_changes": self.pending_count(),
            "in_flight": self.outbox.in_flight(),
            "refused_changes": len(self.outbox.refused.documents()),
            "open_conflicts": len(self.open_conflicts()),
            "last_sync": self.meta_get("last_sync"),
            "cursor": self.meta_get("cursor"),
        }
