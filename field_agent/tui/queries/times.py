"""Reading the times a worker types (``14:30`` today, or a full date and time) as ISO datetimes."""

from __future__ import annotations

import re
from datetime import datetime

_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_when(text: str, now: datetime) -> str | None:
    """``14:30`` -> today at 14:30; ``2026-12-01 09:00`` or ISO as given; None when unreadable."""
    text = text.strip()
    match = _CLOCK.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            return None
        return now.replace(hour=hour, minute=minute, second=0, microsecond=0).isoformat()
    try:
        when = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    return when.isoformat()
