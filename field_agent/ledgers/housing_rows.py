"""Rows of the rented-housing ledger (出租房屋台账): one per household that is let, with its tenants."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from field_agent.domain.sorting import natural_key
from field_agent.ledgers import labels
from field_agent.ledgers.index import RecordIndex, View
from field_agent.ledgers.row_values import day_of_moment, household_fields

FLOATING_ONLY = "住户均为流动人口"


def household_rows(index: RecordIndex, tags: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per live household: its address, head and phone, its rented tags (``tags`` found in the household's
    own), whether everyone living there is floating population, and its tenants.

    Tenants are the household's floating residents; in a household marked rented whose occupants are all registered
    here, everyone who lives there (not ``away``). ``tenants`` lists each as ``name ID-number`` on its own line (the
    builder masks the numbers of a masked ledger)."""
    by_household: dict[str, list[View]] = defaultdict(list)
    for resident in index.kind("resident"):
        by_household[resident.get("household") or ""].append(resident)
    rows = []
    for household in index.kind("household"):
        people = sorted(by_household.get(household["id"], []), key=lambda r: natural_key(str(r.get("name") or "")))
        living = [r for r in people if r.get("residency") != "away"]
        floating = [r for r in living if r.get("residency") == "floating"]
        floating_only = bool(living) and len(floating) == len(living)
        tenants = floating or living
        matched = [tag for tag in tags if tag in (household.get("tags") or ())]
        visits = index.visits_by_household.get(household["id"], [])
        rows.append(
            {
                **household,
                **household_fields(index, household["id"]),
                "grid_name": index.grid_name(household["grid"]),
                "floating_only": floating_only,
                "rental_zh": labels.tag_labels(matched) or (FLOATING_ONLY if floating_only else ""),
                "living_count": len(living),
                "tenant_count": len(tenants),
                "tenants": "\n".join(
                    " ".join(p for p in (str(r.get("name") or ""), str(r.get("id_number") or "")) if p) for r in tenants
                ),
                "last_visit": max((d for d in (day_of_moment(v.get("visited_at")) for v in visits) if d), default=None),
            }
        )
    return rows
