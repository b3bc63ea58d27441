"""What the sync agent needs of a store, as a protocol: the seam between the agent and ``field_agent.store``.

The real ``Store`` fits it, and so does the tests' in-memory double (``tests/sync/memstore.py``); the agent calls
nothing else (``take_erasure_counts`` is optional: a store that erases nothing need not have it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class SyncedStore(Protocol):
    def batch(self) -> AbstractContextManager[None]:
        """Many writes, one durable commit at the end (an answer recorded and the next batch frozen together)."""
        ...

    def meta_get(self, key: str, default: Any = None) -> Any: ...

    def meta_set(self, key: str, value: Any) -> None: ...

    def pending_count(self) -> int:
        """Changes in the outbox, not yet acknowledged by the server."""
        ...

    def next_batch(self, limit: int) -> tuple[str, list[dict[str, Any]]] | None:
        """The batch to send (the same id and changes until it is acknowledged), or None when nothing waits."""
        ...

    def ack_batch(self, batch_id: str, results: Sequence[Mapping[str, Any]]) -> None: ...

    def apply_pulled(
        self,
        envelopes: Sequence[Mapping[str, Any]],
        next_cursor: int,
        purged: Sequence[Mapping[str, Any]] | None = None,
    ) -> int: ...

    def refused_changes(self) -> list[dict[str, Any]]: ...

    def open_conflicts(self) -> Sequence[object]: ...

    def compact_if_erased(self) -> bool: ...
