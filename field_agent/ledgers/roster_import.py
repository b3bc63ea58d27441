"""Turn parsed roster rows into record writes: match residents by ID number and households by building/unit/room,
so importing the same file twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import is_deleted, view
from field_agent.domain.ids import new_id
from field_agent.ledgers.roster import RosterRow
from field_agent.ledgers.roster_headers import household_key

UPDATABLE_RESIDENT_FIELDS = ("name", "phone", "residency", "notes")


@dataclass
class Write:
    """One record write: the values to set and set elements to add; ``created`` when the record is new."""

    kind: str
    record_id: str
    values: dict[str, Any]
    set_changes: dict[str, dict[str, bool]] = field(default_factory=dict)
    created: bool = False
    line: int = 0


@dataclass
class ImportPlan:
    writes: list[Write] = field(default_factory=list)

    def count(self, kind: str, created: bool) -> int:
        return sum(1 for w in self.writes if w.kind == kind and w.created == created)

    def summary(self, rows: int) -> dict[str, int]:
        touched = {w.record_id for w in self.writes if w.kind == "resident"}
        return {
            "rows": rows,
            "households_created": self.count("household", True),
            "households_updated": self.count("household", False),
            "residents_created": self.count("resident", True),
            "residents_updated": self.count("resident", False),
            "residents_unchanged": rows - len(touched),
        }


def plan_import(
    rows: Iterable[RosterRow],
    envelopes: Iterable[Mapping[str, Any]],
    *,
    grid: str,
    make_id: Callable[[], str] = new_id,
) -> ImportPlan:
    """The writes that bring the grid's records in line with the roster rows (blank cells never erase data)."""
    households: dict[tuple[str, ...], dict[str, Any]] = {}
    residents: dict[str, dict[str, Any]] = {}
    for envelope in envelopes:
        if envelope["grid"] != grid or is_deleted(envelope):
            continue
        record = view(envelope)
        if envelope["kind"] == "household":
            households.setdefault(household_key(record), record)
        elif envelope["kind"] == "resident" and record.get("id_number"):
            residents.setdefault(str(record["id_number"]).upper(), record)

    plan = ImportPlan()
    pending: dict[str, Write] = {}
    for row in rows:
        key = row.household_key
        household = households.get(key)
        if household is None:
            household = {"id": make_id(), **row.household}
            households[key] = household
            pending[household["id"]] = Write(
                "household", household["id"], dict(row.household), created=True, line=row.line
            )
        if row.head_name and household.get("head") != row.head_name:
            household["head"] = row.head_name
            write = pending.setdefault(household["id"], Write("household", household["id"], {}, line=row.line))
            write.values["head"] = row.head_name
        if row.head_name == row.resident["name"] and row.resident.get("phone") and not household.get("phone"):
            household["phone"] = row.resident["phone"]
            write = pending.setdefault(household["id"], Write("household", household["id"], {}, line=row.line))
            write.values["phone"] = row.resident["phone"]

        number = str(row.resident["id_number"])
        existing = residents.get(number)
        groups = row.special_groups
        if existing is None:
            values = {k: v for k, v in row.resident.items() if k != "special_groups"}
            values["household"] = household["id"]
            record_id = make_id()
            residents[number] = {"id": record_id, **values, "special_groups": groups}
            changes = {"special_groups": dict.fromkeys(groups, True)} if groups else {}
            pending[record_id] = Write("resident", record_id, values, changes, created=True, line=row.line)
            continue
        values = {
            k: row.resident[k]
            for k in UPDATABLE_RESIDENT_FIELDS
            if row.resident.get(k) not in (None, "") and existing.get(k) != row.resident[k]
        }
        if existing.get("household") != household["id"]:
            values["household"] = household["id"]
        added = [g for g in groups if g not in (existing.get("special_groups") or [])]
        if values or added:
            existing.update(values)
            existing["special_groups"] = sorted({*(existing.get("special_groups") or []), *added})
            changes = {"special_groups": dict.fromkeys(added, True)} if added else {}
            pending[existing["id"]] = Write("resident", existing["id"], values, changes, line=row.line)
    # households before the residents that point at them
    plan.writes = sorted(pending.values(), key=lambda w: (w.kind != "household", w.line))
    return plan
