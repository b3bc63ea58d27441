"""The current sampling round, which also bounds "checked this round" for door-to-door visits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from field_agent.tui.model import GridModel


def current_round(model: GridModel) -> dict[str, Any] | None:
    """The latest open sampling round, if any."""
    return latest_open_round(model.of_kind("sampling_round").values())


def latest_open_round(rounds: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    open_rounds = [r for r in rounds if r.get("status") == "open"]
    return max(open_rounds, key=lambda r: (r.get("started_at") or "", r["id"]), default=None)


def started_on(round_: dict[str, Any] | None, today: date) -> str:
    """ISO date a round began (today when there is none)."""
    return str((round_ or {}).get("started_at") or today.isoformat())[:10]


def round_start(model: GridModel, today: date) -> str:
    """ISO date the current round began (today when no round is open)."""
    return started_on(current_round(model), today)


CHECKED_OUTCOMES = frozenset({"met", "vacant"})
"""A household is checked when someone was met or it was found vacant; nobody home or refused means go back."""


def counts_as_checked(visit: dict[str, Any]) -> bool:
    return visit.get("outcome") in CHECKED_OUTCOMES


def checked_since(model: GridModel, household_id: str, since: str) -> bool:
    return any(
        counts_as_checked(visit) and (visit.get("visited_at") or "")[:10] >= since
        for visit in model.visits_unordered(household_id)
    )
