"""What the store's TinyDB seam relies on in TinyDB: these fail when a TinyDB release changes it.

``field_agent/store/tinydb_seam.py`` is the one module that uses TinyDB's private API: ``DeltaTable`` overrides
``Table._read_table``, ``Table._update_table`` and ``Table._get_next_id`` (docs/STORE.md, "Why a Table subclass").
Checked here against the installed TinyDB:

- its version is inside the range pinned in pyproject.toml, and that range is closed above;
- the private hooks exist with the parameters the seam's overrides take, and ``_storage`` holds the storage;
- stock TinyDB does with them what the overrides stand in for (raw dict of str ids; one storage write per update;
  ids counted up);
- every public ``Table`` read reaches the storage only through ``_read_table``, every public write only through
  one ``_update_table`` call per change, and TinyDB's updaters change the table only through the mapping they are
  handed (the seam hands them a ``TrackingDict``, not a dict, and seals exactly the documents it saw change);
- no module of the project other than the seam touches a private name of TinyDB's classes.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import tinydb
import tinydb.database
import tinydb.middlewares
import tinydb.queries
import tinydb.storages
import tinydb.table
import tinydb.utils
from packaging.requirements import Requirement
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document, Table

from field_agent.store.log import plain_tables
from field_agent.store.packed import PackedTable
from field_agent.store.storage import TrackingDict
from field_agent.store.tinydb_seam import DeltaTable, SealedTinyDB

ROOT = Path(__file__).resolve().parents[2]
SEAM = ROOT / "field_agent" / "store" / "tinydb_seam.py"
HOOKS = {"_read_table": ["self"], "_update_table": ["self", "updater"], "_get_next_id": ["self"]}


def pinned_tinydb() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (pin,) = (Requirement(dep) for dep in project["dependencies"] if Requirement(dep).name == "tinydb")
    return pin


# -- version -------------------------------------------------------------------------------------------------------


def test_installed_tinydb_is_inside_the_pinned_range_and_the_range_is_closed_above() -> None:
    pin = pinned_tinydb()
    installed = version("tinydb")
    assert pin.specifier.contains(installed), f"tinydb {installed} is outside the pinned range {pin.specifier}"
    uppers = [spec for spec in pin.specifier if spec.operator in ("<", "<=", "==", "~=")]
    assert uppers, f"the tinydb pin {pin.specifier} must have an upper bound: a new release must pass this file first"
    assert not pin.specifier.contains("5.0"), "TinyDB 5 may change any private name: test it before widening the pin"


# -- names and signatures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_private_hooks_exist_with_the_parameters_the_seam_overrides(name: str) -> None:
    stock = getattr(Table, name, None)
    assert callable(stock), f"tinydb.table.Table.{name} is gone"
    assert list(inspect.signature(stock).parameters) == HOOKS[name]
    assert list(inspect.signature(getattr(DeltaTable, name)).parameters) == HOOKS[name]
    assert getattr(DeltaTable, name) is not stock  # the seam overrides it


def test_public_names_the_seam_builds_on_are_there() -> None:
    # TinyDB.table() builds ``table_class(db.storage, name, **kwargs)``; DeltaTable keeps that constructor
    assert TinyDB.table_class is Table
    assert list(inspect.signature(Table.__init__).parameters)[:4] == ["self", "storage", "name", "cache_size"]
    assert Table.document_id_class is int and Table.document_class is Document
    assert isinstance(Table.__dict__["storage"], property) and isinstance(Table.__dict__["name"], property)
    assert callable(Table.clear_cache)
    assert Storage.__abstractmethods__ == {"read", "write"}


# -- stock behaviour the overrides stand in for -----------------------------------------------------------------------


class CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.writes += 1
        super().write(data)


def stock_table() -> tuple[Table, CountingStorage]:
    db = TinyDB(storage=CountingStorage)
    return db.table("t"), db.storage  # type: ignore[return-value]


def test_a_table_keeps_the_storage_it_was_built_with_in_storage() -> None:
    db = TinyDB(storage=CountingStorage)
    table = db.table("t")
    assert table._storage is db.storage and table.storage is db.storage


def test_stock_read_table_returns_the_raw_dict_the_storage_holds_keyed_by_str_ids() -> None:
    table, storage = stock_table()
    assert table._read_table() == {}
    table.insert({"a": 1})
    table.insert({"a": 2})
    raw = table._read_table()
    assert raw is storage.read()["t"]  # the stored dict itself, not a copy or a conversion
    assert raw == {"1": {"a": 1}, "2": {"a": 2}}
    assert all(type(doc) is dict for doc in raw.values())  # raw documents, not Document objects


def test_stock_update_table_applies_the_callable_once_and_writes_the_storage_once() -> None:
    table, storage = stock_table()
    table.insert({"a": 1})
    assert table.search(Query().a == 2) == []  # now in the query cache
    writes, calls = storage.writes, []

    def updater(docs: dict[int, Any]) -> None:
        calls.append(dict(docs))
        docs[7] = {"a": 2}

    assert table._update_table(updater) is None
    assert calls == [{1: {"a": 1}}]  # ids as document_id_class inside the updater
    assert storage.writes == writes + 1
    assert storage.read()["t"] == {"1": {"a": 1}, "7": {"a": 2}}  # str ids on the way out
    assert table.search(Query().a == 2) == [{"a": 2}]  # the query cache was cleared


def test_stock_get_next_id_counts_up_from_the_largest_id_and_insert_takes_it() -> None:
    table, _ = stock_table()
    assert table._get_next_id() == 1
    assert table._get_next_id() == 2
    table.truncate()
    table.insert(Document({"a": 1}, doc_id=10))
    assert table._get_next_id() == 11
    assert table.insert({"a": 2}) == 12
    assert table.insert_multiple([{"a": 3}, {"a": 4}]) == [13, 14]


# -- the public API goes through the hooks, and the updaters use only the mapping ----------------------------------


class GuardedStorage(Storage):
    """Stands in for SealedStorage: reads allowed only inside the hooks; each delta replayed onto a shadow copy."""

    def __init__(self) -> None:
        self.data: dict[str, PackedTable] = {"t": PackedTable()}
        self.shadow: dict[str, dict[str, Any]] = {"t": {}}
        self.inside_hook = 0
        self.guarded = False
        self.records = 0
        self.writes = 0

    def read(self) -> dict[str, PackedTable]:
        assert self.inside_hook or not self.guarded, "a public Table method read the storage around the hooks"
        return self.data

    def table(self, name: str) -> PackedTable:
        assert self.inside_hook or not self.guarded, "a public Table method read the storage around the hooks"
        return self.data.setdefault(name, PackedTable())

    def write(self, data: dict[str, PackedTable]) -> None:
        self.writes += 1
        self.data = data
        self.shadow = plain_tables(data)

    def record(self, name: str, tracker: TrackingDict) -> None:
        assert isinstance(tracker, TrackingDict)
        upserts, deletes = tracker.delta()
        shadow = self.shadow.setdefault(name, {})
        if tracker.cleared:
            shadow.clear()
        for key in deletes:
            del shadow[key]
        shadow.update(copy.deepcopy(upserts))
        self.records += 1


class SpyTable(DeltaTable):
    """The seam's table, counting its hooks; ids are predictable."""

    reads = updates = ids = 0

    @contextmanager
    def _hook(self) -> Iterator[GuardedStorage]:
        storage: GuardedStorage = self.storage  # type: ignore[assignment]
        storage.inside_hook += 1
        try:
            yield storage
        finally:
            storage.inside_hook -= 1

    def _read_table(self) -> dict[str, Any]:
        self.reads += 1
        with self._hook():
            return super()._read_table()

    def _update_table(self, updater: Callable[[dict[Any, Any]], None]) -> None:
        self.updates += 1
        with self._hook():
            super()._update_table(updater)

    def _get_next_id(self) -> str:
        self.ids += 1
        return f"id-{self.ids}"


class SpyDB(SealedTinyDB):
    table_class = SpyTable


@pytest.fixture
def spy() -> Iterator[tuple[SpyTable, GuardedStorage]]:
    db = SpyDB(storage=GuardedStorage)
    table = db.table("t")
    assert isinstance(table, SpyTable) and table.storage is db.storage
    table.insert({"a": 1, "k": "x"})
    table.insert({"a": 2, "k": "y"})
    table.insert(Document({"a": 3, "k": "x"}, doc_id="fixed"))
    table.reads = table.updates = 0
    storage: GuardedStorage = db.storage  # type: ignore[assignment]
    storage.guarded, storage.records = True, 0
    yield table, storage


READS: dict[str, tuple[Callable[[Table], Any], Any]] = {
    "all": (lambda t: sorted(d["a"] for d in t.all()), [1, 2, 3]),
    "search": (lambda t: sorted(d["a"] for d in t.search(Query().k == "x")), [1, 3]),
    "get by query": (lambda t: t.get(Query().a == 2), {"a": 2, "k": "y"}),
    "get by id": (lambda t: (t.get(doc_id="fixed"), t.get(doc_id="fixed").doc_id), ({"a": 3, "k": "x"}, "fixed")),
    "get by ids": (lambda t: sorted(d.doc_id for d in t.get(doc_ids=["id-1", "fixed"])), ["fixed", "id-1"]),
    "contains query": (lambda t: t.contains(Query().a == 3), True),
    "contains id": (lambda t: t.contains(doc_id="id-2"), True),
    "count": (lambda t: t.count(Query().k == "x"), 2),
    "len": (len, 3),
    "iterate": (lambda t: sorted(d.doc_id for d in t), ["fixed", "id-1", "id-2"]),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_each_public_read_goes_through_read_table_with_str_ids(spy: tuple[SpyTable, GuardedStorage], name: str) -> None:
    table, _storage = spy
    table.clear_cache()
    read, expected = READS[name]
    assert read(table) == expected
    assert table.reads >= 1 and table.updates == 0


WRITES: dict[str, tuple[Callable[[Table], Any], dict[str, Any]]] = {
    # name: (operation, the documents it changes as they are afterwards; None: removed)
    "insert": (lambda t: t.insert({"a": 4}), {"id-3": {"a": 4}}),
    "insert Document": (lambda t: t.insert(Document({"a": 4}, doc_id="mine")), {"mine": {"a": 4}}),
    "insert_multiple": (lambda t: t.insert_multiple([{"a": 4}, {"a": 5}]), {"id-3": {"a": 4}, "id-4": {"a": 5}}),
    "update fields by query": (lambda t: t.update({"k": "z"}, Query().k == "x"),
                               {"id-1": {"a": 1, "k": "z"}, "fixed": {"a": 3, "k": "z"}}),
    "update callable by query": (lambda t: t.update(lambda d: d.pop("k"), Query().a == 2), {"id-2": {"a": 2}}),
    "update by ids": (lambda t: t.update({"n": 0}, doc_ids=["fixed"]), {"fixed": {"a": 3, "k": "x", "n": 0}}),
    "update all": (lambda t: t.update({"n": 0}), {"id-1": {"a": 1, "k": "x", "n": 0},
                                                  "id-2": {"a": 2, "k": "y", "n": 0},
                                                  "fixed": {"a": 3, "k": "x", "n": 0}}),
    "update_multiple": (lambda t: t.update_multiple([({"n": 1}, Query().a == 1), ({"n": 2}, Query().a == 2)]),
                        {"id-1": {"a": 1, "k": "x", "n": 1}, "id-2": {"a": 2, "k": "y", "n": 2}}),
    "upsert existing": (lambda t: t.upsert({"k": "w"}, Query().a == 3), {"fixed": {"a": 3, "k": "w"}}),
    "upsert Document": (lambda t: t.upsert(Document({"a": 9}, doc_id="fixed")), {"fixed": {"a": 9, "k": "x"}}),
    "remove by query": (lambda t: t.remove(Query().k == "x"), {"id-1": None, "fixed": None}),
    "remove by ids": (lambda t: t.remove(doc_ids=["id-2"]), {"id-2": None}),
    "truncate": (lambda t: t.truncate(), {"id-1": None, "id-2": None, "fixed": None}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRITES))
def test_each_public_write_is_one_update_table_call_seen_whole_by_the_tracking_view(
    spy: tuple[SpyTable, GuardedStorage], name: str
) -> None:
    table, storage = spy
    before = plain_tables(storage.data)["t"]
    write, changed = WRITES[name]
    write(table)
    expected = {key: doc for key, doc in {**before, **changed}.items() if doc is not None}
    assert storage.data["t"] == expected
    assert table.updates == 1 and storage.records == 1 and storage.writes == 0
    # the storage was handed every change: replaying the deltas gives exactly the live table
    assert storage.shadow["t"] == storage.data["t"]
    assert all(type(key) is str for key in storage.data["t"])


def test_dropping_a_table_is_one_whole_database_storage_write() -> None:
    db = SpyDB(storage=GuardedStorage)
    db.table("t").insert({"a": 1})
    db.table("u").insert({"b": 1})
    storage: GuardedStorage = db.storage  # type: ignore[assignment]
    db.drop_table("t")
    assert storage.writes == 1 and storage.data == {"u": {"id-1": {"b": 1}}}


# -- nothing else touches TinyDB's internals --------------------------------------------------------------------------


def tinydb_private_names() -> set[str]:
    """Private attribute names TinyDB's own classes define, on the class or on an instance."""
    names: set[str] = set()
    modules = (tinydb.table, tinydb.storages, tinydb.queries, tinydb.middlewares, tinydb.database, tinydb.utils)
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for klass in cls.__mro__:
                if klass.__module__.startswith("tinydb"):
                    names.update(vars(klass))
    db = TinyDB(storage=MemoryStorage)
    for instance in (db, db.table("t"), db.storage, Query(), Query().a == 1):
        names.update(vars(instance))
    return {name for name in names if name.startswith("_") and not name.endswith("__")}


def test_no_module_but_the_seam_uses_a_private_name_of_tinydb() -> None:
    private = tinydb_private_names()
    assert {"_read_table", "_update_table", "_get_next_id", "_storage", "_query_cache", "_next_id"} <= private
    names = "|".join(map(re.escape, sorted(private)))
    attribute = re.compile(rf"\.(?:{names})\b")
    found = []
    for folder in ("field_agent", "server_stub", "bench", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path in (SEAM, Path(__file__).resolve()):
                continue
            source = path.read_text(encoding="utf-8")
            if not attribute.search(source):  # parse only the files that might
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Attribute) and node.attr in private:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "TinyDB internals outside field_agent/store/tinydb_seam.py (add a public method there):\n" + (
        "\n".join(found)
    )
