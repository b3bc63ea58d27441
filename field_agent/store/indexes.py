"""In-memory indexes over the records, kept current after every commit (local edit or pull).

What the terminal app looks up constantly: records by kind, residents by household, households by building,
visits/samplings/follow-ups by the record they belong to, residents by recorded special group, records with open
conflicts, and household search (``search.SearchIndex``, built on first use: pinyin is the slow part).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from field_agent.domain.envelope import DELETED, is_deleted, open_conflicts, set_members, view
from field_agent.store.packed import PackedTable
from field_agent.store.search import SearchIndex

# (kind, field) pairs indexed by value: "which records of this kind point at X".
REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("building",),
    "resident": ("household",),
    "visit": ("household",),
    "sampling": ("round", "resident", "household"),
    "followup": ("resident",),
    "task": ("assignee", "role", "group"),
    "campaign_result": ("campaign",),
}
SEARCHABLE_KINDS = ("household", "resident")
# The few fields of live records of a kind that the app reads for every record of the kind at once (Today's counts:
# eligibility and isolation of every resident, the round's visits and samplings), kept beside the index so that
# those passes need not unpack every record (``RecordIndex.projection``). Campaigns' progress on Today needs what
# their target rules read (a resident's household and tags, a household's building and tags) and each result's
# campaign, target and status.
PROJECTED: dict[str, tuple[str, ...]] = {
    "resident": ("residency", "isolation_status", "isolation_start", "isolation_days", "id_number", "household"),
    "household": ("building",),
    "visit": ("household", "outcome", "visited_at"),
    "sampling": ("resident", "status"),
    "campaign_result": ("campaign", "target", "status", "at"),
}
PROJECTED_SETS: dict[str, tuple[str, ...]] = {"resident": ("tags",), "household": ("tags",)}
"""Set fields projected too (after ``PROJECTED``'s, as tuples of their present elements, sorted)."""


def projected_names(kind: str) -> tuple[str, ...] | None:
    """The names of ``kind``'s projected values, in their order (None: the kind has none)."""
    names = PROJECTED.get(kind)
    return None if names is None else names + PROJECTED_SETS.get(kind, ())


def _projected(kind: str, envelope: Mapping[str, Any], names: tuple[str, ...] | None) -> tuple[Any, ...] | None:
    if names is None:
        return None
    fields = envelope["fields"]
    values = tuple(map(fields.get, PROJECTED[kind]))
    sets = PROJECTED_SETS.get(kind)
    if sets:
        values += tuple(tuple(set_members(envelope, name)) for name in sets)
    return values


HINT_VERSION = 2
HintSource = tuple[dict[str, Any], set[str]]


class RecordIndex:
    """Secondary indexes; each record's indexed values are remembered so an update removes exactly them."""

    def __init__(self) -> None:
        self._reset({})

    def _reset(self, records: Mapping[str, Any]) -> None:
        self.by_kind: dict[str, set[str]] = {}
        self.deleted: set[str] = set()
        self.conflicted: set[str] = set()
        self.refs: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self.groups: dict[str, set[str]] = {}
        # per record: kind, deleted, references (flat: field, value, field, value…: one tuple, not one per
        # reference, ~5 MB less at 100,000 records), recorded groups, and its PROJECTED values (None if none)
        self._indexed: dict[str, tuple[str, bool, tuple[Any, ...], tuple[str, ...], tuple[Any, ...] | None]] = {}
        self._search: SearchIndex | None = None
        self._records: Mapping[str, Any] = records

    def rebuild(self, records: Mapping[str, Any]) -> None:
        """Index every record in one pass (runs on every open: at 100,000 records every microsecond counts).

        A snapshot written with this index's ``hint`` (what it needs of each record) spares unpacking every record:
        only the records written after the snapshot, or missing from its hint, are read."""
        self._reset(records)
        taken = records.take_hint() if isinstance(records, PackedTable) else None
        if taken is not None:
            hint, ids, stale = taken
            try:
                done = self._from_hint(orjson.loads(hint), ids, records, stale)
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, KeyError, IndexError):
                self._reset(records)  # not the form this version writes: index from the records
            else:
                del hint, ids, taken
                for record_id in records:
                    if record_id not in done:
                        envelope = records.get(record_id)
                        if envelope is not None:
                            self._add(record_id, envelope)
                return
        self._rebuild_from(records.items())

    def _from_hint(self, hint: dict[str, Any], ids: list[str], records: Mapping[str, Any], stale: set[str]) -> set[str]:
        """Index the records the hint describes (``ids``: the snapshot's, in its order); return their ids.

        The hint is flat: a list of every string it uses (kinds, field names, groups, referenced ids), and per
        record, in the snapshot's order, integers: kind, flags (1 deleted, 2 open conflict), then the number of
        references and (field, value) pairs, then the number of groups and the groups, then the number of projected
        values (``PROJECTED``) and the values. Parsing it makes one list of small integers and one string per
        distinct value, nothing per record, so nothing is left behind in memory."""
        if hint.get("v") != HINT_VERSION:
            raise ValueError("a hint of another version")
        names, rows = hint["names"], hint["rows"]
        names = [tuple(name) if name.__class__ is list else name for name in names]  # projected sets: tuples
        if len(rows) < 5 * len(ids):
            raise ValueError("hint too short")
        by_kind, refs_index, groups_index = self.by_kind, self.refs, self.groups
        deleted, conflicted, indexed = self.deleted, self.conflicted, self._indexed
        live = records.blobs if isinstance(records, PackedTable) else records
        done: set[str] = set()
        kinds: dict[int, tuple[str, set[str]]] = {}
        buckets: dict[tuple[int, int], tuple[str, dict[Any, set[str]]]] = {}
        no_refs: tuple[Any, ...] = ()
        pos = 0
        for record_id in ids:
            number, flags, count = rows[pos], rows[pos + 1], rows[pos + 2]
            pos += 3
            found = no_refs
            if count:
                pairs = []
                for _ref in range(count):
                    key = (number, rows[pos])
                    holder = buckets.get(key)
                    if holder is None:
                        name = names[rows[pos]]
                        holder = buckets[key] = (name, refs_index.setdefault((names[number], name), {}))
                    pairs.append((holder[0], names[rows[pos + 1]], holder[1]))
                    pos += 2
                found = tuple(item for name, value, _bucket in pairs for item in (name, value))
            size = rows[pos]
            members = tuple(names[group] for group in rows[pos + 1 : pos + 1 + size]) if size else ()
            pos += 1 + size
            size = rows[pos]
            values = tuple(names[value] for value in rows[pos + 1 : pos + 1 + size]) if size else None
            pos += 1 + size
            if record_id in stale or record_id not in live:
                continue
            done.add(record_id)
            context = kinds.get(number)
            if context is None:
                kind = names[number]
                context = kinds[number] = (kind, by_kind.setdefault(kind, set()))
            kind, of_kind = context
            of_kind.add(record_id)
            if flags:
                if flags & 2:
                    conflicted.add(record_id)
                if flags & 1:
                    deleted.add(record_id)
            if count:
                for _name, value, bucket in pairs:
                    holders = bucket.get(value)
                    if holders is None:
                        bucket[value] = {record_id}
                    else:
                        holders.add(record_id)
            for group in members:
                holders = groups_index.get(group)
                if holders is None:
                    groups_index[group] = {record_id}
                else:
                    holders.add(record_id)
            indexed[record_id] = (kind, flags & 1 == 1, found, members, values)
        return done

    def hint_source(self) -> HintSource:
        """Copies of what ``hint`` is made from (fast: take them under the store's lock, make the hint outside)."""
        return dict(self._indexed), set(self.conflicted)

    @staticmethod
    def hint(source: HintSource, ids: Iterable[str]) -> bytes:
        """What the index needs of each record of ``ids`` (the snapshot's, in its order), for ``rebuild``."""
        indexed, conflicted = source
        numbers: dict[tuple[type, Any], int] = {}
        rows: list[int] = []
        add, setdefault = rows.append, numbers.setdefault

        def number(value: Any) -> int:
            return setdefault((value.__class__, value), len(numbers))  # 1 and True apart

        for record_id in ids:
            entry = indexed.get(record_id)
            if entry is None:  # not indexed (not for a snapshot of the live table): no hint, open unpacks them all
                return b""
            kind, is_deleted_, refs, groups, values = entry
            add(number(kind))
            add((1 if is_deleted_ else 0) | (2 if record_id in conflicted else 0))
            add(len(refs) // 2)
            for name, value in zip(refs[::2], refs[1::2], strict=True):
                add(number(name))
                add(number(value))
            add(len(groups))
            for group in groups:
                add(number(group))
            values = values or ()
            add(len(values))
            for value in values:
                add(number(value))
        return orjson.dumps({"v": HINT_VERSION, "names": [value for _type, value in numbers], "rows": rows})

    def projection(self, kind: str, ids: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, the ``PROJECTED`` fields of ``kind`` as a dict) of each live record of ``ids`` (no unpacking)."""
        names = projected_names(kind) or ()
        indexed = self._indexed
        for record_id in ids:
            entry = indexed.get(record_id)
            values = entry[4] if entry is not None else None
            if values is not None:
                yield record_id, dict(zip(names, values, strict=True))

    def recorded_groups(self, record_id: str) -> tuple[str, ...]:
        """The special groups recorded for a resident (from the index)."""
        entry = self._indexed.get(record_id)
        return entry[3] if entry is not None else ()

    def _rebuild_from(self, items: Iterable[tuple[str, Any]]) -> None:
        by_kind, refs_index, groups_index = self.by_kind, self.refs, self.groups
        deleted, conflicted, indexed = self.deleted, self.conflicted, self._indexed
        per_kind: dict[str, tuple[set[str], list[tuple[str, dict[Any, set[str]]]], bool, tuple[str, ...] | None]] = {}
        no_refs: tuple[Any, ...] = ()
        for record_id, envelope in items:
            kind = envelope["kind"]
            context = per_kind.get(kind)
            if context is None:
                buckets = [(name, refs_index.setdefault((kind, name), {})) for name in REFERENCE_FIELDS.get(kind, ())]
                context = per_kind[kind] = (
                    by_kind.setdefault(kind, set()),
                    buckets,
                    kind == "resident",
                    projected_names(kind),
                )
            of_kind, buckets, with_groups, projected = context
            of_kind.add(record_id)
            fields = envelope["fields"]
            if envelope["conflicts"] and open_conflicts(envelope):
                conflicted.add(record_id)
            if fields.get(DELETED):
                deleted.add(record_id)
                indexed[record_id] = (kind, True, no_refs, (), None)
                continue
            refs = no_refs
            if buckets:
                found: list[Any] = []
                for name, bucket in buckets:
                    value = fields.get(name)
                    if (value.__class__ is str and value) or value.__class__ is int:
                        found += (name, value)
                        holders = bucket.get(value)
                        if holders is None:
                            bucket[value] = {record_id}
                        else:
                            holders.add(record_id)
                refs = tuple(found)
            groups: tuple[str, ...] = ()
            if with_groups and envelope["sets"].get("special_groups"):
                groups = tuple(set_members(envelope, "special_groups"))
                for group in groups:
                    holders = groups_index.get(group)
                    if holders is None:
                        groups_index[group] = {record_id}
                    else:
                        holders.add(record_id)
            indexed[record_id] = (
                kind,
                False,
                refs,
                groups,
                _projected(kind, envelope, projected),
            )

    def update(self, record_id: str) -> None:
        """Re-index one record from the live table."""
        envelope = self._records.get(record_id)
        self._remove(record_id)
        if envelope is not None:
            self._add(record_id, envelope)
        if self._search is not None:
            searchable = envelope is not None and envelope["kind"] in SEARCHABLE_KINDS and not is_deleted(envelope)
            self._search.update(record_id, view(envelope) if envelope is not None and searchable else None)

    def _add(self, record_id: str, envelope: Mapping[str, Any]) -> None:
        # Runs for every record on open (50,000 times): plain dict/set operations, no throwaway defaults.
        kind = envelope["kind"]
        fields = envelope["fields"]
        deleted = bool(fields.get(DELETED))
        by_kind = self.by_kind.get(kind)
        if by_kind is None:
            by_kind = self.by_kind[kind] = set()
        by_kind.add(record_id)
        if deleted:
            self.deleted.add(record_id)
        if envelope["conflicts"] and open_conflicts(envelope):
            self.conflicted.add(record_id)
        refs: tuple[Any, ...] = ()
        groups: tuple[str, ...] = ()
        if not deleted:
            names = REFERENCE_FIELDS.get(kind)
            if names:
                found: list[Any] = []
                for name in names:
                    value = fields.get(name)
                    if (value.__class__ is str and value) or value.__class__ is int:
                        found += (name, value)
                        bucket = self.refs.get((kind, name))
                        if bucket is None:
                            bucket = self.refs[(kind, name)] = {}
                        holders = bucket.get(value)
                        if holders is None:
                            bucket[value] = {record_id}
                        else:
                            holders.add(record_id)
                refs = tuple(found)
            if kind == "resident" and envelope["sets"].get("special_groups"):
                groups = tuple(set_members(envelope, "special_groups"))
                for group in groups:
                    self.groups.setdefault(group, set()).add(record_id)
        values = None if deleted else _projected(kind, envelope, projected_names(kind))
        self._indexed[record_id] = (kind, deleted, refs, groups, values)

    def _remove(self, record_id: str) -> None:
        entry = self._indexed.pop(record_id, None)
        if entry is None:
            return
        kind, _deleted, refs, groups, _values = entry
        self.by_kind.get(kind, set()).discard(record_id)
        self.deleted.discard(record_id)
        self.conflicted.discard(record_id)
        for name, value in zip(refs[::2], refs[1::2], strict=True):
            holders = self.refs[(kind, name)][value]
            holders.discard(record_id)
            if not holders:
                del self.refs[(kind, name)][value]
        for group in groups:
            self.groups[group].discard(record_id)

    def ids(self, kind: str | None, include_deleted: bool = False) -> list[str]:
        """Record ids of a kind (all kinds if None), in the table's order."""
        if kind is None:
            ids = list(self._records)
        else:
            wanted = self.by_kind.get(kind, set())
            ids = [record_id for record_id in self._records if record_id in wanted] if wanted else []
        return ids if include_deleted else [record_id for record_id in ids if record_id not in self.deleted]

    def bucket(self, kind: str, field: str) -> dict[Any, set[str]]:
        """The live index of ``kind`` records by ``field`` (value -> ids), kept until the next ``rebuild`` (the store
        rebuilds only on open); read only, and copy a set before iterating it outside the store's lock."""
        if field not in REFERENCE_FIELDS.get(kind, ()):
            raise KeyError(f"{kind}.{field} is not indexed")
        return self.refs.setdefault((kind, field), {})

    def referencing(self, kind: str, field: str, value: Any) -> set[str]:
        """Live records of ``kind`` whose ``field`` equals ``value`` (a copy: the index changes as the store saves)."""
        bucket = self.refs.get((kind, field))
        holders = bucket.get(value) if bucket is not None else None
        return set(holders) if holders else set()

    @property
    def search(self) -> SearchIndex:
        if self._search is None:
            search = SearchIndex()
            search.build(
                view(envelope)
                for envelope in self._records.values()
                if envelope["kind"] in SEARCHABLE_KINDS and not is_deleted(envelope)
            )
            self._search = search
        return self._search
