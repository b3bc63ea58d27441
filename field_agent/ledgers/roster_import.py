"""Turn parsed roster rows into record writes: match residents by ID number and households by building/unit/room,
so importing the same file twice changes nothing. Blank cells never erase; special groups and tags are only added;
notes gain the lines they lack (a disability's grade, the roster's 备注), never lose one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import is_deleted, view
from field_agent.domain.ids import new_id
from field_agent.domain.schema import SCHEMAS
from field_agent.ledgers.roster import RosterRow
from field_agent.ledgers.roster_headers import household_key

UPDATABLE_RESIDENT_FIELDS = ("name", "phone", "phone2", "residency")
SET_FIELDS = ("special_groups", "tags")
NOTES_LIMIT = SCHEMAS["resident"]["notes"].max_length


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
        sets = {name: _listed(row.resident.get(name)) for name in SET_FIELDS}
        if existing is None:
            values = {k: v for k, v in row.resident.items() if k not in SET_FIELDS}
            values["household"] = household["id"]
            record_id = make_id()
            residents[number] = {"id": record_id, **values, **sets}
            changes = {name: dict.fromkeys(items, True) for name, items in sets.items() if items}
            pending[record_id] = Write("resident", record_id, values, changes, created=True, line=row.line)
            continue
        values = {
            k: row.resident[k]
            for k in UPDATABLE_RESIDENT_FIELDS
            if k not in row.assumed and row.resident.get(k) not in (None, "") and existing.get(k) != row.resident[k]
        }
        notes = merged_notes(existing.get("notes"), row.resident.get("notes"))
        if notes is not None:
            values["notes"] = notes
        if existing.get("household") != household["id"]:
            values["household"] = household["id"]
        added = {
            name: [item for item in items if item not in _listed(existing.get(name))] for name, items in sets.items()
        }
        changes = {name: dict.fromkeys(items, True) for name, items in added.items() if items}
        if values or changes:
            existing.update(values)
            for name, items in changes.items():
                existing[name] = sorted({*_listed(existing.get(name)), *items})
            pending[existing["id"]] = Write("resident", existing["id"], values, changes, line=row.line)
    # households before the residents that point at them, each in the roster's order
    plan.writes = sorted(pending.values(), key=lambda w: w.kind != "household")
    return plan


def _listed(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple | set) else []


def merged_notes(stored: Any, written: Any) -> str | None:
    """The stored notes with the roster's lines they lack added at the end (None when they lack none): a worker's
    notes are never replaced, and importing the same file again adds nothing. Lines that would make the notes
    longer than the domain allows are left out."""
    if not isinstance(written, str) or not written.strip():
        return None
    text = stored if isinstance(stored, str) else ""
    have = {line.strip() for line in text.splitlines()}
    for line in (line.strip() for line in written.splitlines()):
        if line and line not in have and len(text) + len(line) + 1 <= NOTES_LIMIT:
            text = f"{text}\n{line}" if text else line
            have.add(line)
    return text if text != (stored or "") else None
