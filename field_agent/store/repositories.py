"""Typed repositories over the store: flat record views per kind, and the lookups the app and tools need.

Every lookup goes through the store's in-memory index (``RecordIndex``), which is updated after each commit, local
or pulled, so none of these scans the records. Built by the store (``Store.repos``) from its shared pieces; they
never see the ``Store`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain.envelope import is_deleted, view
from field_agent.store.core import StoreCore
from field_agent.store.editing import Editor, SetChanges
from field_agent.store.search import address_key, phone_digits

DEFAULT_SEARCH_LIMIT = 50

View = dict[str, Any]


class Repository:
    """Records of one kind as flat views (``envelope.view``)."""

    kind = ""

    def __init__(self, core: StoreCore, editor: Editor) -> None:
        self.core = core
        self.editor = editor

    def get(self, record_id: str) -> View | None:
        """The live record's view, or None if it is missing, deleted or of another kind."""
        envelope = self.core.records.raw(record_id)
        if envelope is None or envelope["kind"] != self.kind or is_deleted(envelope):
            return None
        return view(envelope)

    def count(self) -> int:
        return len(self.core.index.by_kind.get(self.kind, set()) - self.core.index.deleted)

    def put(
        self, values: Mapping[str, Any], *, record_id: str | None = None, set_changes: SetChanges | None = None
    ) -> View:
        return view(self.editor.put(self.kind, values, record_id=record_id, set_changes=set_changes))

    def delete(self, record_id: str) -> None:
        self.editor.delete(record_id)

    def views(self, ids: Iterable[str]) -> list[View]:
        """Views of the given records that are stored (in the given order)."""
        table = self.core.records.documents()
        return [view(table[record_id]) for record_id in ids if record_id in table]

    def _by(self, field: str, value: Any) -> list[View]:
        return self._sorted(self.views(self.core.index.referencing(self.kind, field, value)))

    @staticmethod
    def _sorted(views: Iterable[View]) -> list[View]:
        return sorted(views, key=lambda v: v["id"])


class Households(Repository):
    kind = "household"

    def by_building(self, building: str) -> list[View]:
        return sorted(self._by("building", building), key=address_key)

    def buildings(self) -> list[str]:
        return sorted(str(b) for b in self.core.index.refs.get(("household", "building"), {}))

    def search_ids(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[str]:
        """Ids of households whose address, head, phone tail or any resident's name/pinyin matches every term,
        the first ``limit`` in walking order."""
        return self.core.index.search.households(query, limit)

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[View]:
        """The views of ``search_ids``."""
        return self.views(self.search_ids(query, limit))


class Residents(Repository):
    kind = "resident"

    def by_household(self, household_id: str) -> list[View]:
        return self._by("household", household_id)

    def by_group(self, group: str) -> list[View]:
        """Residents with a recorded special group (chronic, disabled, bedridden, pregnant)."""
        return self._sorted(self.views(self.core.index.groups.get(group, set())))

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[View]:
        """Residents whose name, pinyin or phone tail matches every term."""
        terms = query.lower().split()
        if not terms:
            return []
        index = self.core.index
        found: set[str] | None = None
        for term in terms:
            ids = index.search.match_term(term) & index.by_kind.get(self.kind, set())
            found = ids if found is None else found & ids
        return self._sorted(self.views(found or set()))[:limit]

    def by_phone_tail(self, digits: str) -> list[View]:
        tail = phone_digits(digits)
        if not tail:
            return []
        index = self.core.index
        ids = index.search.phones.prefix(tail[::-1]) & index.by_kind.get(self.kind, set())
        return self._sorted(self.views(ids))


class Repositories:
    """The typed repositories of one open store (households and residents: the kinds looked up by more than id)."""

    def __init__(self, core: StoreCore, editor: Editor) -> None:
        self.households = Households(core, editor)
        self.residents = Residents(core, editor)
