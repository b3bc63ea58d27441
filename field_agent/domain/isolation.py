"""Home isolation: how long it lasts when a resident's record does not say."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

DEFAULT_ISOLATION_DAYS = 14
"""Days of home isolation when neither the resident's ``isolation_days`` nor the device's setting gives them."""


def followup_reached(followup: Mapping[str, Any]) -> bool:
    """Whether a day's follow-up reached the resident: contact was made, or a temperature was taken.

    One that did neither records an attempt (a call not answered, nobody at the door): it does not count as the
    day's check, so the resident stays due until someone gets through.
    """
    return bool(followup.get("contact_made")) or followup.get("temperature") is not None


def planned_end(start: object, days: object) -> date | None:
    """The day home isolation is planned to end: ``days`` days after the start day (a 7-day isolation begun on
    11-28 covers 11-28 … 12-04 and ends on 12-05). None when the start is not a date or the length is unknown.

    The terminal app (which day of how many, when it is over) and the ledgers (预计解除日期) both count with this.
    """
    if not isinstance(days, int) or isinstance(days, bool) or not start:
        return None
    try:
        first = date.fromisoformat(str(start)[:10])
    except ValueError:
        return None
    return first + timedelta(days=days)
