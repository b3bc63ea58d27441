"""Cross-references over record views: households of residents, each grid's current round, visits, follow-ups.

Built once from envelopes (deleted records skipped) and shared by the ledgers and the town overview, so both count
the same way. On the tablet it is built from the open store (``LiveRecords``, the store's ``StoreReader``): the
store's own index says which records are live and which hold open conflicts, and no envelope is copied.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from field_agent.domain.enums import SAMPLING_DONE_STATUSES
from field_agent.domain.envelope import is_deleted, open_conflicts, view
from field_agent.domain.groups import EligibilityRule
from field_agent.ledgers import facts

CHINA = dt.timezone(dt.timedelta(hours=8))
DONE_STATUSES = frozenset(SAMPLING_DONE_STATUSES)
CHECKED_OUTCOMES = frozenset({"met", "vacant"})

View = dict[str, Any]


@runtime_checkable
class LiveRecords(Protocol):
    """What the ledgers read from an open store (``field_agent.store.reader.StoreReader``), by its record index."""

    def live_views(self) -> list[View]:
        """Views of every live record, in the store's order."""
        ...

    def conflicted(self) -> list[Mapping[str, Any]]:
        """Envelopes of the records with open conflicts."""
        ...


Records = Iterable[Mapping[str, Any]] | LiveRecords
"""Envelopes (the server's, a file's) or an open store's live records."""


def parse_when(value: object) -> dt.datetime | None:
    """An ISO date or datetime as an aware datetime (naive ones are taken as China time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=CHINA)


def day_of(value: object) -> str:
    """The China-time date of an ISO date or datetime, as ``YYYY-MM-DD`` ('' when absent)."""
    when = parse_when(value)
    return when.astimezone(CHINA).date().isoformat() if when else ""


@dataclass
class RecordIndex:
    """Every live record by kind and id, plus the cross-references the ledgers need."""

    today: dt.date
    rule: EligibilityRule | None = None
    by_kind: dict[str, dict[str, View]] = field(default_factory=lambda: defaultdict(dict))
    open_conflicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @classmethod
    def build(cls, envelopes: Records, today: dt.date, rule: EligibilityRule | None = None) -> RecordIndex:
        """``rule``: who is eligible for home sampling (the town configuration's in force; the default rule when
        None)."""
        index = cls(today=today, rule=rule)
        if isinstance(envelopes, LiveRecords):
            return index._from_store(envelopes)
        for envelope in envelopes:
            conflicts = open_conflicts(envelope)
            if conflicts:
                index.open_conflicts[envelope["grid"]] += len(conflicts)
            if is_deleted(envelope):
                continue
            index.by_kind[envelope["kind"]][envelope["id"]] = view(envelope)
        index._cross_reference()
        return index

    def _from_store(self, store: LiveRecords) -> RecordIndex:
        for envelope in store.conflicted():
            self.open_conflicts[envelope["grid"]] += len(open_conflicts(envelope))
        for record in store.live_views():
            self.by_kind[record["kind"]][record["id"]] = record
        self._cross_reference()
        return self

    def kind(self, kind: str) -> list[View]:
        return list(self.by_kind.get(kind, {}).values())

    def get(self, kind: str, record_id: object) -> View | None:
        return self.by_kind.get(kind, {}).get(record_id) if isinstance(record_id, str) else None

    def _cross_reference(self) -> None:
        self.grid_records: dict[str, View] = {v["grid"]: v for v in self.kind("grid")}
        self.current_round: dict[str, View] = {}
        for grid, rounds in _group(self.kind("sampling_round"), "grid").items():
            opened = [r for r in rounds if r.get("status", "open") == "open"]
            self.current_round[grid] = max(opened or rounds, key=lambda r: (r.get("started_at") or "", r["id"]))
        # per (round, resident): a sampled/exempt entry if there is one, else the latest (UUIDv7 ids sort by time)
        self.sampling: dict[tuple[str, str], View] = {}
        for entry in sorted(self.kind("sampling"), key=lambda s: (s.get("status") in DONE_STATUSES, s["id"])):
            self.sampling[(entry.get("round") or "", entry.get("resident") or "")] = entry
        self.visits_by_household = _group(self.kind("visit"), "household")
        self.followups_by_resident = _group(self.kind("followup"), "resident")
        # round / resident / visit id, erased kind -> day its data was erased by the retention rule (ledgers.erasures)
        self.erased: dict[tuple[str, str], str] = {}
        # of those, the ones whose records only left the tablet (retention window; kept on the town server)
        self.retired: set[tuple[str, str]] = set()
        for note in sorted(self.kind("erasure_note"), key=lambda n: not n.get("retired")):  # erasures last: they win
            key = (note.get("parent") or "", note.get("erased_kind") or "")
            self.erased[key] = note.get("on") or ""
            (self.retired.add if note.get("retired") else self.retired.discard)(key)
        self.groups: dict[str, list[str]] = {}
        self.home_sampling: dict[str, list[str]] = {}
        for resident in self.kind("resident"):
            groups = facts.special_groups(resident, self.today)
            self.groups[resident["id"]] = groups
            self.home_sampling[resident["id"]] = facts.home_sampling_reasons(resident, groups, self.rule)

    def grid_name(self, grid: str) -> str:
        record = self.grid_records.get(grid)
        return str(record.get("name") or grid) if record else grid

    def eligible(self, resident: View) -> bool:
        """Whether a resident should be sampled at home (and so counts towards coverage)."""
        return bool(self.home_sampling.get(resident["id"]))

    def round_entry(self, round_id: str | None, resident_id: str) -> View | None:
        return self.sampling.get((round_id or "", resident_id)) if round_id else None

    def left_out(self, round_record: View) -> list[View]:
        """Eligible residents of the round's grid with no sampled or exempt entry in that round (nobody once the
        round's samplings were erased by the retention rule: see ``erased``)."""
        if (round_record["id"], "sampling") in self.erased:
            return []
        return [
            r
            for r in self.kind("resident")
            if r["grid"] == round_record["grid"]
            and self.eligible(r)
            and (self.round_entry(round_record["id"], r["id"]) or {}).get("status") not in DONE_STATUSES
        ]

    def households_checked_since(self, grid: str, since: dt.datetime | None) -> set[str]:
        """Households of a grid with a visit that found out who lives there (met or vacant) since a moment."""
        checked = set()
        for household_id, visits in self.visits_by_household.items():
            for visit in visits:
                if visit["grid"] != grid or visit.get("outcome") not in CHECKED_OUTCOMES:
                    continue
                when = parse_when(visit.get("visited_at"))
                if since is None or (when is not None and when >= since):
                    checked.add(household_id)
                    break
        return checked & set(self.by_kind.get("household", {}))


def _group(views: Iterable[View], key: str) -> dict[str, list[View]]:
    grouped: dict[str, list[View]] = defaultdict(list)
    for item in views:
        grouped[item.get(key) or ""].append(item)
    return dict(grouped)
