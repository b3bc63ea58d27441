"""Households as the list and detail screens show them: search, filters, order in the building, next door."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from field_agent.domain.sorting import natural_key
from field_agent.tui import people
from field_agent.tui.model import GridModel
from field_agent.tui.queries.rounds import checked_since, round_start
from field_agent.tui.timefmt import town_date

FILTERS: tuple[str, ...] = ("all", "unchecked", "special", "isolation")
MAX_ROWS = 60
"""Rows drawn at once: more than a tablet shows; typing more narrows the list."""


@dataclass(frozen=True)
class HouseholdRow:
    id: str
    address: str
    building: str
    head: str
    residents: int
    special: bool
    isolation: bool
    checked_round: bool
    last_visit: str
    last_outcome: str | None


def household_order(household: dict[str, Any]) -> tuple[Any, ...]:
    """Walking order: building, unit, room, then address, each in natural order (``domain.sorting``)."""
    return (
        natural_key(household.get("building")),
        natural_key(household.get("unit")),
        natural_key(household.get("room")),
        natural_key(household.get("address")),
    )


def household_row(model: GridModel, household: dict[str, Any], today: date, since: str) -> HouseholdRow:
    residents = model.residents_of(household["id"])
    visits = model.visits_of(household["id"])
    last = visits[0] if visits else None
    return HouseholdRow(
        id=household["id"],
        address=model.short_address(household),
        building=str(household.get("building") or ""),
        head=household.get("head") or "",
        residents=len(residents),
        special=any(model.derived(r, ("groups", today), lambda r: people.special_groups(r, today)) for r in residents),
        isolation=any(r.get("isolation_status") == "home" for r in residents),
        checked_round=checked_since(model, household["id"], since),
        last_visit=town_date(last.get("visited_at")) if last else "",
        last_outcome=last.get("outcome") if last else None,
    )


def list_households(
    model: GridModel,
    today: date,
    matches: Iterable[str] | None,
    filter_name: str = "all",
    building: str | None = None,
    limit: int = MAX_ROWS,
) -> tuple[list[HouseholdRow], int]:
    """Rows for the list (at most ``limit``) and how many households matched in all.

    ``matches`` are the household ids a search found (None: no search, every household).
    """
    households = model.of_kind("household")
    if matches is None:
        candidates = list(model.across_households("walking order", _walking_order))
    else:
        candidates = [households[hid] for hid in dict.fromkeys(matches) if hid in households]
    if building:
        candidates = [h for h in candidates if str(h.get("building") or "") == building]
    since = round_start(model, today)
    rows: list[HouseholdRow] = []
    total = 0
    for household in candidates:
        if filter_name == "unchecked" and checked_since(model, household["id"], since):
            continue
        if filter_name in ("special", "isolation"):
            row = household_row(model, household, today, since)
            if (filter_name == "special" and not row.special) or (filter_name == "isolation" and not row.isolation):
                continue
        total += 1
        if len(rows) < limit:
            rows.append(household_row(model, household, today, since))
    return rows, total


def _walking_order(model: GridModel) -> list[dict[str, Any]]:
    return sorted(model.of_kind("household").values(), key=household_order)


def buildings(model: GridModel) -> list[str]:
    """The grid's buildings in walking order."""
    return model.across_households("buildings", _buildings)


def _buildings(model: GridModel) -> list[str]:
    found = {str(h.get("building") or "") for h in model.of_kind("household").values()}
    return sorted((b for b in found if b), key=natural_key)


def next_in_building(model: GridModel, household_id: str, today: date) -> dict[str, Any] | None:
    """The next household of the same building not yet checked this round (wrapping round), if any."""
    current = model.get(household_id)
    if current is None:
        return None
    since = round_start(model, today)
    same = sorted(
        (h for h in model.of_kind("household").values() if h.get("building") == current.get("building")),
        key=household_order,
    )
    position = next((i for i, h in enumerate(same) if h["id"] == household_id), 0)
    for household in same[position + 1 :] + same[:position]:
        if not checked_since(model, household["id"], since):
            return household
    return None
