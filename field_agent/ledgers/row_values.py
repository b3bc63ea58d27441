"""Values every row builder shares: a household's address fields, recorded dates and times in town time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from field_agent.ledgers.index import CHINA, RecordIndex, parse_when
from field_agent.ledgers.roster_headers import compose_address


def household_fields(index: RecordIndex, household_id: object) -> dict[str, Any]:
    """The address, head and phone of a household, as the rows of its residents, visits or results show them."""
    household = index.get("household", household_id) or {}
    return {
        "household_id": household.get("id"),
        "building": household.get("building"),
        "unit": household.get("unit"),
        "room": household.get("room"),
        "address": household.get("address") or compose_address(household),
        "head": household.get("head"),
        "household_phone": household.get("phone"),
    }


def as_date(value: object) -> dt.date | str | None:
    """A recorded date (``YYYY-MM-DD``) as a date; other text as it is, so nothing a worker wrote is lost."""
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return day_of_moment(value) or value
    return None


def day_of_moment(value: object) -> dt.date | None:
    """The town-time date of an ISO date or datetime."""
    when = parse_when(value)
    return when.astimezone(CHINA).date() if when else None


def short_time(value: object) -> dt.datetime | None:
    """A moment in town time, to the minute the office reads it to (seconds dropped)."""
    when = parse_when(value)
    return when.astimezone(CHINA).replace(second=0, microsecond=0) if when else None
