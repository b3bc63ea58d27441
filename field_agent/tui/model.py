"""The app's in-memory read model of one grid: every record's flat view, related through the store's index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import view
from field_agent.domain.printable import inert_record
from field_agent.store.indexes import RecordIndex

KINDS = ("grid", "household", "resident", "visit", "sampling_round", "sampling", "followup", "task")


@dataclass
class GridModel:
    """Inert flat views of the grid's live records, by kind, as the screens draw them; updated on every save.

    It holds no index of its own: which residents live in a household, its visits, a resident's samplings and
    follow-ups are read from the store's record index (``field_agent.store.indexes.RecordIndex``, kept current by
    the store after every commit), and only the views of those records come from here."""

    index: RecordIndex = field(default_factory=RecordIndex)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_kind: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    memo: dict[str, dict[Any, Any]] = field(default_factory=dict)
    """Values derived from one record (age groups, eligibility), dropped when that record changes."""
    grid_memo: dict[Any, Any] = field(default_factory=dict)
    """Values derived from all households (walking order, buildings), dropped when any household changes."""

    def __post_init__(self) -> None:
        # the index's buckets of the references the screens follow, held directly: a keystroke's rows follow them
        # a few hundred times (the store keeps each bucket for as long as it is open)
        bucket = self.index.bucket
        self._residents = bucket("resident", "household")
        self._visits = bucket("visit", "household")
        self._samplings = bucket("sampling", "resident")
        self._followups = bucket("followup", "resident")

    @classmethod
    def from_views(cls, views: Iterable[dict[str, Any]], index: RecordIndex) -> GridModel:
        """A model of freshly loaded records (each id once; deleted ones skipped) over the store's index."""
        model = cls(index)
        records, by_kind = model.records, model.by_kind
        for record in views:
            if record.get("_deleted"):
                continue
            record = inert_record(record)  # control characters in values are shown, never sent to the terminal
            records[record["id"]] = record
            by_kind[record["kind"]][record["id"]] = record
        return model

    def apply(self, envelope: Mapping[str, Any]) -> dict[str, Any] | None:
        """Take in a saved envelope (new, changed or deleted); return its view, or None when deleted."""
        return self.apply_view(view(envelope))

    def apply_view(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Take in a record's flat view; None when it is deleted."""
        record = inert_record(record)
        record_id = record["id"]
        self._drop(record_id)
        if record.get("_deleted"):
            return None
        self.records[record_id] = record
        self.by_kind[record["kind"]][record_id] = record
        if record["kind"] == "household":
            self.grid_memo.clear()
        return record

    def across_households(self, key: Any, compute: Callable[[GridModel], Any]) -> Any:
        """``compute(model)`` over all households, remembered until a household changes."""
        if key not in self.grid_memo:
            self.grid_memo[key] = compute(self)
        return self.grid_memo[key]

    def derived(self, record: dict[str, Any], key: Any, compute: Callable[[dict[str, Any]], Any]) -> Any:
        """``compute(record)``, remembered until the record changes (``key`` names what, e.g. with the date)."""
        cache = self.memo.setdefault(record["id"], {})
        if key not in cache:
            cache[key] = compute(record)
        return cache[key]

    def _drop(self, record_id: str) -> None:
        self.memo.pop(record_id, None)
        old = self.records.pop(record_id, None)
        if old is None:
            return
        self.by_kind[old["kind"]].pop(record_id, None)
        if old["kind"] == "household":
            self.grid_memo.clear()

    def _related(self, bucket: dict[Any, set[str]], record_id: str) -> list[dict[str, Any]]:
        """Views of the live records a bucket of the store's index holds under ``record_id``."""
        holders = bucket.get(record_id)
        if not holders:
            return []
        records = self.records
        # tuple(): one step under the GIL, as the store's worker threads may change the set meanwhile
        return [found for rid in tuple(holders) if (found := records.get(rid)) is not None]

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.by_kind.get(kind, {})

    def get(self, record_id: str | None) -> dict[str, Any] | None:
        return self.records.get(record_id) if record_id else None

    @property
    def grid(self) -> dict[str, Any] | None:
        grids = self.of_kind("grid")
        return next(iter(grids.values()), None)

    def residents_of(self, household_id: str) -> list[dict[str, Any]]:
        holders = self._residents.get(household_id)  # inlined (not _related): the special filter runs it per household
        if not holders:
            return []
        records = self.records
        members = [found for rid in tuple(holders) if (found := records.get(rid)) is not None]
        return sorted(members, key=lambda r: (r.get("name") or "", r["id"]))

    def visits_of(self, household_id: str) -> list[dict[str, Any]]:
        """The household's visits, latest first."""
        return sorted(self.visits_unordered(household_id), key=lambda v: v.get("visited_at") or "", reverse=True)

    def visits_unordered(self, household_id: str) -> list[dict[str, Any]]:
        holders = self._visits.get(household_id)  # inlined (not _related): "not yet checked" runs it per household
        if not holders:
            return []
        records = self.records
        return [found for rid in tuple(holders) if (found := records.get(rid)) is not None]

    def samplings_of(self, resident_id: str) -> list[dict[str, Any]]:
        return self._related(self._samplings, resident_id)

    def followups_of(self, resident_id: str) -> list[dict[str, Any]]:
        found = self._related(self._followups, resident_id)
        return sorted(found, key=lambda f: f.get("date") or "")

    def household_label(self, household_id: str | None) -> str:
        """The household's address without the town and community every address of the grid repeats."""
        household = self.get(household_id)
        return self.short_address(household) if household is not None else ""

    def short_address(self, household: Mapping[str, Any]) -> str:
        return short_address(household, (self.grid or {}).get("community"))


def short_address(household: Mapping[str, Any], community: str | None) -> str:
    """A household's address without the town and community (``community``) every address of the grid repeats."""
    address = (
        household.get("address")
        or " ".join(str(household.get(part) or "") for part in ("building", "unit", "room")).strip()
    )
    if community and community in address:
        rest = address.split(community, 1)[1].strip(" ,，")
        return rest or address
    return str(address)
