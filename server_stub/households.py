"""A household is not deleted while residents live in it: the tablet refuses that (``Store.delete``) and so does the
server, for a deletion pushed by a tablet that had not yet heard of a resident another tablet added meanwhile.

Records are sealed, so the server cannot ask the database for "residents of household X": the first household
deletion of a batch reads the grid's residents once (a batch without one reads nothing). See docs/DOMAIN.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from field_agent.domain.envelope import DELETED
from field_agent.domain.validation import check_home
from server_stub.db.base import Database, Transaction

REFUSAL_CODE = "household_has_residents"
HOME_REFUSAL_CODE = "household_gone"


def _deletes(change: Mapping[str, Any]) -> bool:
    return change["fields"].get(DELETED, {}).get("value") is True


class HouseholdGuard:
    """Answers, for one push batch, whether a household deletion would leave residents in a deleted household."""

    def __init__(self, db: Database, grid: str, changes: Iterable[Mapping[str, Any]]) -> None:
        self._db, self._grid = db, grid
        self._live: dict[str, set[str]] | None = None
        self._read: Callable[[], Iterable[Mapping[str, Any]]] = lambda: db.iter_records(grid)
        # residents this batch deletes or moves count where the batch puts them, wherever the change sits in it
        self._batch: dict[str, str | None] = {}
        self._households: Mapping[str, Mapping[str, Any]] | None = None
        self._named_households = {
            change["fields"]["household"]["value"]
            for change in changes
            if change["kind"] == "resident"
            and "household" in change["fields"]
            and isinstance(change["fields"]["household"].get("value"), str)
        }
        for change in changes:
            if change["kind"] == "resident" and (_deletes(change) or "household" in change["fields"]):
                self._batch[change["record"]] = None if _deletes(change) else change["fields"]["household"]["value"]

    def home_refusal(self, change: Mapping[str, Any], working: Mapping[str, Mapping[str, Any]]) -> str | None:
        """Why a resident change may not put the resident where it says (a household of another grid, unknown, or
        deleted, here or earlier in the batch), or None. Read once per batch, for the households its residents name."""
        if change["kind"] != "resident" or _deletes(change) or "household" not in change["fields"]:
            return None
        household = change["fields"]["household"]["value"]
        if not isinstance(household, str):
            return None  # the domain rules refuse it with their own reason
        envelope = working.get(household) or self._homes().get(household)
        if envelope is not None and envelope["grid"] != self._grid:
            envelope = None  # another grid's household is as good as none: the answer names neither
        if not check_home(envelope):
            return None
        return (
            f"household {household} is not a live household of this grid on the server (deleted, or never sent): "
            "put the resident in another household"
        )

    def _homes(self) -> Mapping[str, Mapping[str, Any]]:
        if self._households is None:
            named = list(self._named_households)
            self._households = (
                {rid: envelope for rid, (_, envelope) in self._db.read_versions(named).items()} if named else {}
            )
        return self._households

    def _residents(self) -> dict[str, set[str]]:
        if self._live is None:
            self._live = _live(self._read())
        return self._live

    def recheck(self, tx: Transaction) -> bool:
        """Under the grid's lock: from now on read the residents through ``tx``, and read them again if they were
        read before the lock was taken (another push, through this process or another instance of the server,
        may have added one meanwhile); True when they changed, so the batch must be planned again."""
        self._read = lambda: tx.records_of_kind(self._grid, "resident")
        before, self._live = self._live, None
        return before is not None and self._residents() != before

    def refusal(self, change: Mapping[str, Any], current: Mapping[str, Any] | None) -> str | None:
        """Why this change may not apply (a reason naming no person), or None."""
        if change["kind"] != "household" or not _deletes(change):
            return None
        if current is not None and current["fields"].get(DELETED):
            return None  # deleted already: nothing changes for its residents
        household = change["record"]
        staying = {rid for rid in self._residents().get(household, ()) if rid not in self._batch}
        staying |= {rid for rid, target in self._batch.items() if target == household}
        if not staying:
            return None
        return (
            f"household {household} still has {len(staying)} resident(s) on the server: move them to another "
            "household or delete them first, then delete the household again"
        )


def _live(envelopes: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The ids of the live residents of each household."""
    live: dict[str, set[str]] = {}
    for envelope in envelopes:
        if envelope["kind"] == "resident" and not envelope["fields"].get(DELETED):
            live.setdefault(envelope["fields"].get("household"), set()).add(envelope["id"])
    return live
