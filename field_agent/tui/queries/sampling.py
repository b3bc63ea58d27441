"""Home sampling in the current round: who is eligible, their status, coverage and the "nobody left out" list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from field_agent.domain.enums import SAMPLING_DONE_STATUSES
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule
from field_agent.domain.sorting import natural_key
from field_agent.tui import people
from field_agent.tui.model import GridModel
from field_agent.tui.queries.rounds import current_round


@dataclass(frozen=True)
class SamplingRow:
    resident: dict[str, Any]
    household: dict[str, Any] | None
    building: str
    address: str
    groups: list[str]
    sampling: dict[str, Any] | None

    @property
    def status(self) -> str | None:
        return self.sampling.get("status") if self.sampling else None

    @property
    def done(self) -> bool:
        return self.status in SAMPLING_DONE_STATUSES


@dataclass(frozen=True)
class Coverage:
    round: dict[str, Any] | None
    rows: list[SamplingRow] = field(default_factory=list)

    @property
    def eligible(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return sum(1 for row in self.rows if row.done)

    @property
    def left_out(self) -> list[SamplingRow]:
        """Eligible residents with no sampled or exempt entry in this round."""
        return [row for row in self.rows if not row.done]


def eligible(
    model: GridModel, today: date, rule: EligibilityRule = DEFAULT_ELIGIBILITY
) -> list[tuple[dict[str, Any], list[str]]]:
    """Residents eligible for home sampling on ``today`` by ``rule`` (the town configuration's in force), each with
    the reasons."""
    found = []
    for resident in model.of_kind("resident").values():
        reasons = model.derived(resident, ("sampling", today, rule), lambda r: people.sampling_reasons(r, today, rule))
        if reasons:
            found.append((resident, reasons))
    return found


def round_entries(model: GridModel, round_id: str | None) -> dict[str, dict[str, Any]]:
    """Each resident's latest entry in a round."""
    entries: dict[str, dict[str, Any]] = {}
    if round_id is None:
        return entries
    for sampling in model.of_kind("sampling").values():
        if sampling.get("round") != round_id:
            continue
        resident = sampling.get("resident")
        if resident is None:
            continue
        if resident not in entries or sampling["id"] > entries[resident]["id"]:
            entries[resident] = sampling
    return entries


def coverage_counts(
    model: GridModel, today: date, rule: EligibilityRule = DEFAULT_ELIGIBILITY
) -> tuple[dict[str, Any] | None, int, int]:
    """The current round, how many are eligible and how many are sampled or exempt (for Today)."""
    round_ = current_round(model)
    entries = round_entries(model, round_["id"] if round_ else None)
    people_eligible = eligible(model, today, rule)
    done = sum(
        1 for resident, _ in people_eligible if entries.get(resident["id"], {}).get("status") in SAMPLING_DONE_STATUSES
    )
    return round_, len(people_eligible), done


def coverage(model: GridModel, today: date, rule: EligibilityRule = DEFAULT_ELIGIBILITY) -> Coverage:
    """Every resident eligible by ``rule`` with their entry in the current round, grouped by building."""
    round_ = current_round(model)
    entries = round_entries(model, round_["id"] if round_ else None)
    rows = []
    for resident, reasons in eligible(model, today, rule):
        household = model.get(resident.get("household"))
        entry = entries.get(resident["id"])
        rows.append(
            SamplingRow(
                resident=resident,
                household=household,
                building=str((household or {}).get("building") or ""),
                address=model.household_label(resident.get("household")),
                groups=reasons,
                sampling=entry,
            )
        )
    rows.sort(key=lambda r: (natural_key(r.building), natural_key(r.address), r.resident.get("name") or ""))
    return Coverage(round_, rows)
