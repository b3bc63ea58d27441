"""Home isolation: who is in it, which day of how many, and whether today's check was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from field_agent.domain.enums import SYMPTOMS
from field_agent.domain.isolation import followup_reached, planned_end
from field_agent.domain.sorting import natural_key
from field_agent.tui.model import GridModel

FEVER_AT = 37.3
RED_FLAG_SYMPTOMS = frozenset({"fever", "shortness_of_breath"})
"""Symptoms that send a follow-up to the grid leader even without a high temperature."""


@dataclass(frozen=True)
class IsolationRow:
    resident: dict[str, Any]
    address: str
    day: int
    days: int
    checked_today: bool
    """A check today reached the resident (``followup_reached``)."""
    flagged_today: bool
    last_temperature: float | None
    attempted_today: bool = False
    """Someone tried today but did not get through: the resident is still due."""
    end: date | None = None
    """The day the isolation is planned to end (``planned_end``: the ledgers' 预计解除日期)."""

    @property
    def due_today(self) -> bool:
        return 1 <= self.day <= self.days

    @property
    def over(self) -> bool:
        """The planned days have passed but the record still says home isolation: someone must end it."""
        return self.day > self.days

    @property
    def upcoming(self) -> bool:
        """The isolation starts on a later day."""
        return self.day < 1


def isolation_rows(model: GridModel, today: date, default_days: int) -> list[IsolationRow]:
    """Residents in home isolation, most urgent (flagged, then not yet checked) first."""
    rows = []
    today_text = today.isoformat()
    for resident in model.of_kind("resident").values():
        if resident.get("isolation_status") != "home":
            continue
        day = isolation_day(resident.get("isolation_start"), today)
        followups = model.followups_of(resident["id"])
        todays = [f for f in followups if f.get("date") == today_text]
        last = followups[-1] if followups else None
        days = int(resident.get("isolation_days") or default_days)
        rows.append(
            IsolationRow(
                resident=resident,
                address=model.household_label(resident.get("household")),
                day=day,
                days=days,
                end=planned_end(resident.get("isolation_start"), days),
                checked_today=any(followup_reached(f) for f in todays),
                attempted_today=bool(todays),
                flagged_today=any(f.get("flagged") for f in todays),
                last_temperature=last.get("temperature") if last else None,
            )
        )
    rows.sort(
        key=lambda r: (not r.flagged_today, r.checked_today, natural_key(r.address), r.resident.get("name") or "")
    )
    return rows


def isolation_day(start: Any, today: date) -> int:
    """Which day of isolation ``today`` is (day 1 when the start is unknown)."""
    if not start:
        return 1
    try:
        return (today - date.fromisoformat(str(start)[:10])).days + 1
    except ValueError:
        return 1


def needs_flag(temperature: float | None, symptoms: list[str]) -> bool:
    """A fever or a red-flag symptom goes to the grid leader."""
    return (temperature is not None and temperature >= FEVER_AT) or bool(RED_FLAG_SYMPTOMS & set(symptoms))


def known_symptoms() -> tuple[str, ...]:
    return SYMPTOMS
