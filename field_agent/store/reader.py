"""A read-only window on an open store (``Store.reader``): its index and stored envelopes, read in place.

For callers that must be fast on tens of thousands of records (the terminal app shows Today in well under a
second at 50,000 records; copying or flattening every record would be most of that). It reads only the few
fields a question needs, from the envelopes the store already holds in memory. The store replaces an envelope on
every write (never edits one in place) and its id sets are copied in one step, so a reader in a worker thread sees
each record either before or after a concurrent save, never half of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from field_agent.domain.envelope import view
from field_agent.store.indexes import RecordIndex
from field_agent.store.tinydb_seam import DeltaTable


class StoreReader:
    """Fields of live records by kind or by reference, read in place (callers must not change what they get)."""

    def __init__(self, index: RecordIndex, records: DeltaTable) -> None:
        self.index = index
        self._table = records

    def live_ids(self, kind: str) -> set[str]:
        index = self.index
        return set(index.by_kind.get(kind, ())) - index.deleted

    def referencing(self, kind: str, field: str, value: Any) -> set[str]:
        """Live records of ``kind`` whose ``field`` is ``value`` (from the store's reference index)."""
        return self.index.referencing(kind, field, value)

    def envelope(self, record_id: str) -> Mapping[str, Any] | None:
        envelope: Mapping[str, Any] | None = self._table.raw(record_id)
        return envelope

    def fields(self, ids: set[str] | list[str]) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
        """(id, registers, sets) of each record still stored."""
        stored = self.stored()
        for record_id in ids:
            envelope = stored.get(record_id)
            if envelope is not None:
                yield record_id, envelope["fields"], envelope["sets"]

    def views(self, ids: set[str] | list[str]) -> list[dict[str, Any]]:
        stored = self.stored()
        return [view(envelope) for envelope in map(stored.get, ids) if envelope is not None]

    def stored(self) -> Mapping[str, Any]:
        """Envelopes by id, as TinyDB holds them in memory (read only: the store replaces them, never edits)."""
        return self._table.documents()

    def live_views(self) -> list[dict[str, Any]]:
        """Views of every live record, in the table's order (the index says which are deleted)."""
        deleted = set(self.index.deleted)
        stored = list(self.stored().items())  # one step, so a concurrent save cannot change it under the loop
        return [view(envelope) for record_id, envelope in stored if record_id not in deleted]

    def conflicted(self) -> list[Mapping[str, Any]]:
        """The stored envelopes of records with open conflicts (from the index)."""
        stored = self.stored()
        return [envelope for record_id in set(self.index.conflicted) if (envelope := stored.get(record_id))]

    def grid(self) -> dict[str, Any] | None:
        grids = self.views(sorted(self.live_ids("grid")))
        return grids[0] if grids else None


def members(sets: Mapping[str, Any], name: str) -> list[str]:
    """The present elements of a set field of a stored envelope."""
    return [element for element, (_stamp, present) in sets.get(name, {}).items() if present]
