"""Typed repositories over the store: flat record views per kind, and the lookups the terminal app needs.

Every lookup goes through the store's in-memory indexes (``RecordIndex``), which are updated after each commit,
local or pulled, so none of these scans the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain.envelope import is_deleted, view
from field_agent.store.search import address_key, phone_digits
from field_agent.store.store import Store

DEFAULT_SEARCH_LIMIT = 50


class Repository:
    """Records of one kind as flat views (``envelope.view``)."""

    kind = ""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, record_id: str) -> dict[str, Any] | None:
        """The live record's view, or None if it is missing, deleted or of another kind."""
        envelope = self.store._records.raw(record_id)
        if envelope is None or envelope["kind"] != self.kind or is_deleted(envelope):
            return None
        return view(envelope)

    def all(self) -> list[dict[str, Any]]:
        return self.store.views(self.store.index.ids(self.kind))

    def count(self) -> int:
        return len(self.store.index.by_kind.get(self.kind, set()) - self.store.index.deleted)

    def put(
        self,
        values: Mapping[str, Any],
        *,
        record_id: str | None = None,
        set_changes: Mapping[str, Mapping[str, bool]] | None = None,
    ) -> dict[str, Any]:
        return view(self.store.put(self.kind, values, record_id=record_id, set_changes=set_changes))

    def delete(self, record_id: str) -> None:
        self.store.delete(record_id)

    def _by(self, field: str, value: Any) -> list[dict[str, Any]]:
        return self._sorted(self.store.views(self.store.index.referencing(self.kind, field, value)))

    @staticmethod
    def _sorted(views: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(views, key=lambda v: v["id"])


class Households(Repository):
    kind = "household"

    def by_building(self, building: str) -> list[dict[str, Any]]:
        return sorted(self._by("building", building), key=address_key)

    def buildings(self) -> list[str]:
        return sorted(str(b) for b in self.store.index.refs.get(("household", "building"), {}))

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[dict[str, Any]]:
        """Households whose address, head, phone tail or any resident's name/pinyin matches every term."""
        return self.store.views(self.store.index.search.households(query, limit))


class Residents(Repository):
    kind = "resident"

    def by_household(self, household_id: str) -> list[dict[str, Any]]:
        return self._by("household", household_id)

    def by_group(self, group: str) -> list[dict[str, Any]]:
        """Residents with a recorded special group (chronic, disabled, bedridden, pregnant)."""
        return self._sorted(self.store.views(self.store.index.groups.get(group, set())))

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[dict[str, Any]]:
        """Residents whose name, pinyin or phone tail matches every term."""
        terms = query.lower().split()
        if not terms:
            return []
        found: set[str] | None = None
        for term in terms:
            ids = self.store.index.search.match_term(term) & self.store.index.by_kind.get(self.kind, set())
            found = ids if found is None else found & ids
        return self._sorted(self.store.views(found or ()))[:limit]

    def by_phone_tail(self, digits: str) -> list[dict[str, Any]]:
        tail = phone_digits(digits)
        if not tail:
            return []
        ids = self.store.index.search.phones.prefix(tail[::-1]) & self.store.index.by_kind.get(self.kind, set())
        return self._sorted(self.store.views(ids))


class Visits(Repository):
    kind = "visit"

    def by_household(self, household_id: str) -> list[dict[str, Any]]:
        return sorted(self._by("household", household_id), key=lambda v: str(v.get("visited_at", "")))


class Samplings(Repository):
    kind = "sampling"

    def by_round(self, round_id: str) -> list[dict[str, Any]]:
        return self._by("round", round_id)

    def by_resident(self, resident_id: str) -> list[dict[str, Any]]:
        return self._by("resident", resident_id)


class SamplingRounds(Repository):
    kind = "sampling_round"


class Followups(Repository):
    kind = "followup"

    def by_resident(self, resident_id: str) -> list[dict[str, Any]]:
        return sorted(self._by("resident", resident_id), key=lambda v: str(v.get("date", "")))


class Tasks(Repository):
    kind = "task"

    def by_assignee(self, assignee: str) -> list[dict[str, Any]]:
        return self._by("assignee", assignee)

    def by_role(self, role: str) -> list[dict[str, Any]]:
        return self._by("role", role)

    def by_group(self, group: str) -> list[dict[str, Any]]:
        return self._by("group", group)


class Grids(Repository):
    kind = "grid"

    def current(self) -> dict[str, Any] | None:
        """The grid record of this store's grid, if it has one."""
        grid_id = self.store.grid
        for record in self.all():
            if record["id"] == grid_id or record["grid"] == grid_id:
                return record
        return None


class Repositories:
    """All typed repositories of one open store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.households = Households(store)
        self.residents = Residents(store)
        self.visits = Visits(store)
        self.sampling_rounds = SamplingRounds(store)
        self.samplings = Samplings(store)
        self.followups = Followups(store)
        self.tasks = Tasks(store)
        self.grid = Grids(store)
