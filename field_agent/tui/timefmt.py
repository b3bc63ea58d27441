"""Dates and times as a worker reads them (local time, minutes, no seconds)."""

from __future__ import annotations

from datetime import datetime


def short_time(value: str | None) -> str:
    """``2026-11-30T09:15:00+08:00`` -> ``2026-11-30 09:15``; anything unparsable is shown as given."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value
