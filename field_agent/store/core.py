"""The pieces every part of an open store shares, handed to each part by constructor (never the ``Store`` itself).

``Store`` (store.py) builds one ``StoreCore`` when it opens and gives it to its parts: ``Editor`` (editing.py),
``Conflicts`` (conflicts.py), ``SyncSide`` (sync_state.py), the erasure functions (erasure.py) and ``Repositories``
(repositories.py). None of them imports store.py, so the package has no import cycle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from field_agent.domain.hlc import HybridClock
from field_agent.store.errors import StoreClosed
from field_agent.store.indexes import RecordIndex
from field_agent.store.outbox import Outbox
from field_agent.store.storage import SealedStorage
from field_agent.store.tinydb_seam import DeltaTable


def copy_value(value: Any) -> Any:
    """A deep copy of a JSON value (what the store hands out: callers may change it freely)."""
    return orjson.loads(orjson.dumps(value))


@dataclass
class StoreCore:
    """The open store's lock, log, tables, outbox, clock and record index.

    ``touched`` collects the ids of records written in the current commit; the store re-indexes them after the
    commit (``storage.after_commit``), so the index never shows a write that was rolled back."""

    lock: threading.RLock
    path: Path
    storage: SealedStorage
    records: DeltaTable
    meta: DeltaTable
    outbox: Outbox
    index: RecordIndex
    clock: HybridClock
    touched: set[str] = field(default_factory=set)
    closed: bool = False
    town_cache: Any = None  # the town configuration's parsed versions and the meta entry read (store/town.py)

    def check_open(self) -> None:
        if self.closed:
            raise StoreClosed()

    def meta_get(self, key: str, default: Any = None) -> Any:
        entry = self.meta.raw(key)
        return default if entry is None else copy_value(entry["v"])

    def meta_put(self, key: str, value: Any) -> None:
        """Write a setting (a frame, or part of the caller's batch); ``value`` must not be changed afterwards."""
        self.meta.put(key, {"v": value})

    @property
    def node_id(self) -> str:
        return str(self.meta_get("node_id"))

    def save_clock(self) -> None:
        self.meta_put("clock", self.clock.last)
