"""The store's side of sync: handing out push batches, settling them, applying pulled records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from field_agent.domain.envelope import ENVELOPE_KEYS
from field_agent.protocol.merge import merge_envelopes
from field_agent.store.core import StoreCore
from field_agent.store.erasure import COMPACT_KEY, WAITING_KEY, ErasureCounts, erase_marked
from field_agent.store.guard import locked
from field_agent.store.rollback import advance_prior

Wire = Mapping[str, Any]
"""What the sync agent hands over from the server: a push result, a pulled envelope or an erasure marker, as the
plain dicts ``field_agent.protocol.wire`` validates (``ChangeResult``, ``Envelope``, ``PurgeMarker``)."""


def _plain(item: Wire) -> dict[str, Any]:
    return dict(item)


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


class SyncSide:
    """The outbox and pull methods the sync agent calls (``Store.sync``; the store forwards the agent's calls)."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self._lock = core.lock
        self._erasure_counts: ErasureCounts | None = None

    @locked
    def pending_count(self) -> int:
        """Local changes not yet acknowledged by the server (pending and in flight)."""
        return self.core.outbox.count()

    @locked
    def next_batch(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        """The batch in flight, unchanged; else a new one of up to ``limit`` pending changes (durably frozen)."""
        self.core.check_open()
        current = self.core.outbox.current_batch()
        if current is not None:
            return current
        with self.core.storage.batch():
            return self.core.outbox.freeze(limit)

    @locked
    def ack_batch(self, batch_id: str, results: Sequence[Wire]) -> None:
        """Settle the in-flight batch: applied/conflict leave the outbox, refused move aside (one commit)."""
        self.core.check_open()
        with self.core.storage.batch():
            self.core.touched.update(self.core.outbox.acknowledge(batch_id, [_plain(result) for result in results]))

    @locked
    def refused_changes(self) -> list[dict[str, Any]]:
        """Changes the server refused, each with ``id``, ``change``, ``code`` and ``reason``."""
        return self.core.outbox.refused_list()

    @locked
    def discard_refused(self, entry_id: str) -> None:
        """Forget a refused change once a person has dealt with it."""
        self.core.check_open()
        self.core.outbox.refused.delete(entry_id)

    @locked
    def apply_pulled(self, envelopes: Sequence[Wire], next_cursor: int, purged: Sequence[Wire] | None = None) -> int:
        """Merge records pulled from the server and save the cursor, in one commit; return how many changed here.

        A register with a local edit the server has not acknowledged keeps the local value (the push that
        follows carries it, and the server decides). Every stamp seen moves the clock forward.
        """
        self.core.check_open()
        # one copy of the whole page: the caller's objects are never stored (they may be reused or changed)
        plain = orjson.loads(orjson.dumps([_plain(envelope) for envelope in envelopes]))
        newest = max((stamp for envelope in plain if (stamp := newest_stamp(envelope))), default=None)
        table = self.core.records.documents()
        updates: dict[str, dict[str, Any]] = {}
        with self.core.storage.batch():
            if newest is not None:
                self.core.clock.observe(newest)
            for remote in plain:
                if remote.keys() != _KEYS:
                    remote = {key: remote.get(key, {}) for key in ENVELOPE_KEYS}
                record_id = remote["id"]
                local = updates.get(record_id) or table.get(record_id)
                if local is None:
                    updates[record_id] = remote
                    continue
                merged = merge_envelopes(local, remote, keep_ours=self.core.outbox.unsent_registers(record_id))
                for entry_id, entry in self.core.outbox.unsent_entries(record_id):
                    prior = advance_prior(entry.get("prior"), remote)
                    if prior != entry.get("prior"):
                        self.core.outbox.pending.put(entry_id, {**entry, "prior": prior})
                if merged != local:
                    updates[record_id] = merged
            if updates:
                self.core.records.put_many(updates)
                self.core.touched.update(updates)
            if purged or self.core.meta_get(WAITING_KEY):
                counts = erase_marked(self.core, [_plain(marker) for marker in purged or ()])
                self._erasure_counts = _added(self._erasure_counts, counts)
            self.core.meta.put("cursor", {"v": int(next_cursor)})
            self.core.save_clock()
        return len(updates)

    @locked
    def take_erasure_counts(self) -> ErasureCounts:
        """What erasure markers erased since the last call (records, and unsent or refused changes dropped)."""
        counts = self._erasure_counts or ErasureCounts()
        self._erasure_counts = None
        return counts

    @locked
    def compact_if_erased(self) -> bool:
        """After erasure markers were applied: rewrite the log as one snapshot, so that no frame on disk still holds
        an erased value. True if it compacted."""
        self.core.check_open()
        if not self.core.meta_get(COMPACT_KEY):
            return False
        self.core.storage.retrain_dictionaries()  # a dictionary trained on the erased documents may hold their values
        self.core.storage.compact()  # first: if it fails (full disk) the flag stays, and the next sync or open retries
        self.core.meta.delete(COMPACT_KEY)  # a small frame naming the flag, no value
        return True
