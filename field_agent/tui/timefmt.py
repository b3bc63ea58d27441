"""Dates and times as a worker reads them: in the town's time zone, minutes, no seconds.

Every time on screen goes through ``short_time`` (or ``town_time``): a stored time may be an ISO text with an
offset (a visit, ``+08:00``), one in UTC (the last sync, a conflict: ``+00:00``), or milliseconds since the epoch;
all are shown in the town's zone, ``Asia/Shanghai`` unless the store's ``time_zone`` setting names another.
An ISO text without an offset was written as the town's wall-clock time and is shown as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TOWN_ZONE = "Asia/Shanghai"
ZONE_SETTING = "time_zone"
"""The store setting (meta key) naming the town's IANA zone, when it is not Beijing time."""


@lru_cache(maxsize=8)
def town_zone(name: str | None = None) -> tzinfo:
    """The zone called ``name``, or Beijing time when it is empty or unknown."""
    if name:
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TOWN_ZONE)


def town_time(value: object, zone: tzinfo | None = None) -> datetime | None:
    """A stored time as an aware datetime in the town's zone; None when it is empty or not a time."""
    zone = zone or town_zone()
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, UTC).astimezone(zone)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def short_time(value: object, zone: tzinfo | None = None) -> str:
    """``2026-11-30T01:15:00+00:00`` -> ``2026-11-30 09:15`` (in Beijing); anything unparsable is shown as given."""
    if value is None or value == "":
        return ""
    moment = town_time(value, zone)
    if moment is None:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M")


def town_date(value: object, zone: tzinfo | None = None) -> str:
    """The town's calendar day of a stored time (``2026-11-29T17:00:00+00:00`` -> ``2026-11-30``); a bare date or
    an unreadable value is cut to its first 10 characters."""
    if isinstance(value, str) and len(value.strip()) <= 10:
        return value.strip()
    moment = town_time(value, zone)
    if moment is None:
        return str(value or "")[:10]
    return moment.date().isoformat()
