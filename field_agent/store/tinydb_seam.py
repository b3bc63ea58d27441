"""The one module that touches TinyDB's private API; the rest of the project uses this module or TinyDB's public API.

TinyDB's ``Storage`` interface reads and writes the whole database, and stock ``Table._update_table`` re-keys and
rewrites a whole table on every write (~95 % of an insert's time at 50,000 documents, even in memory). So
``DeltaTable`` overrides three private ``Table`` methods and reads one private attribute; nothing else of TinyDB's
internals is used:

- ``_read_table()`` — every public read (``all``, ``search``, ``get``, ``contains``, ``count``, ``len``, iteration)
  gets the live table (str ids to documents, kept packed: ``packed.PackedTable``, a mapping) that the storage
  holds, without a copy;
- ``_update_table(updater)`` — every public write runs TinyDB's own updater against a ``TrackingDict`` over that live
  dict (ids stay strings), and the storage is handed only the documents that changed (one sealed frame);
- ``_get_next_id()`` — ``insert`` takes a new UUIDv7 string instead of the next integer;
- ``_storage`` — the storage the table was built with (what the public ``storage`` property returns), read directly
  on the lookup paths, where the property's call is a measurable share of a ``raw()``.

What these rely on in TinyDB (names, signatures, which public methods go through them, how their updaters use the
table) is checked by tests/store/test_tinydb_contract.py, for the version range pinned in pyproject.toml. Other
modules read and write through the public methods below (``documents``, ``raw``, ``put``, ``delete``, ``put_many``,
``delete_many``) or TinyDB's public ``Table`` API.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from field_agent.domain.ids import new_id
from field_agent.store.packed import PackedTable
from field_agent.store.storage import SealedStorage, TrackingDict


class DeltaTable(Table):
    """A TinyDB table whose writes touch only the changed documents; ids are strings (UUIDv7 by default)."""

    # TinyDB's stubs type document ids as int; the class is a setting, and this table's ids are str
    document_id_class = str  # type: ignore[assignment]
    _storage: SealedStorage  # what every DeltaTable is built over (SealedTinyDB's storage)

    # -- the public seam: what the rest of the store calls --------------------------------------------------------

    def documents(self) -> PackedTable:
        """The live documents by id: the table the storage holds, not a copy (each document read from it is unpacked
        afresh; change the table only through this class's writes)."""
        return self._storage.table(self.name)

    def raw(self, doc_id: str) -> Any:
        """The stored document, unpacked: a fresh object each call (changing it changes nothing until it is put)."""
        return self._storage.table(self.name).get(doc_id)

    def put(self, doc_id: str, document: dict[str, Any]) -> None:
        """Insert or replace one document by id."""

        def updater(table: MutableMapping[str, Any]) -> None:
            table[doc_id] = document

        self._update_table(updater)

    def delete(self, doc_id: str) -> None:
        """Remove one document by id (no error if it is absent)."""

        def updater(table: MutableMapping[str, Any]) -> None:
            if doc_id in table:
                del table[doc_id]

        self._update_table(updater)

    def put_many(self, documents: dict[str, dict[str, Any]]) -> None:
        """Insert or replace many documents by id: one delta, however many."""

        def updater(table: MutableMapping[str, Any]) -> None:
            for doc_id, document in documents.items():
                table[doc_id] = document

        self._update_table(updater)

    def delete_many(self, doc_ids: list[str]) -> None:
        """Remove many documents by id (absent ones are skipped): one delta."""

        def updater(table: MutableMapping[str, Any]) -> None:
            for doc_id in doc_ids:
                if doc_id in table:
                    del table[doc_id]

        self._update_table(updater)

    # -- TinyDB's private hooks (pinned by tests/store/test_tinydb_contract.py) -----------------------------------

    def _get_next_id(self) -> str:
        return new_id()

    def _read_table(self) -> dict[str, Any]:
        # TinyDB types the table as a dict; its reads use only Mapping operations on it (pinned by
        # tests/store/test_tinydb_contract.py), which the packed table provides
        return self._storage.table(self.name)  # type: ignore[return-value]

    def _update_table(self, updater: Callable[[dict[Any, Any]], None]) -> None:
        storage = self._storage
        tracker = TrackingDict(storage.table(self.name))
        try:
            # TinyDB types its updaters as taking a dict; they use only MutableMapping operations on it (pinned by
            # tests/store/test_tinydb_contract.py), which TrackingDict provides
            updater(tracker)  # type: ignore[arg-type]
            tracker.settle()
        except BaseException:
            tracker.undo()
            raise
        finally:
            self.clear_cache()
        storage.record(self.name, tracker)


class SealedTinyDB(TinyDB):
    """TinyDB with delta tables, over ``SealedStorage``."""

    table_class = DeltaTable

    @property
    def sealed(self) -> SealedStorage:
        storage = self.storage
        if not isinstance(storage, SealedStorage):
            raise TypeError("a SealedTinyDB is built over SealedStorage")
        return storage

    def delta_table(self, name: str) -> DeltaTable:
        """The table ``name``, typed as what ``table_class`` makes it."""
        table = self.table(name)
        if not isinstance(table, DeltaTable):
            raise TypeError("a SealedTinyDB makes DeltaTables")
        return table
