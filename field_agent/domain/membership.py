"""Temporary members of a grid (cadres sent down, volunteers, the mobile sampling team): their last day and when
it has passed. The same rule ends a member on the grid record (``members[].until``) and their device on the town
server (``server_stub.temporary``): a membership ends at the end of its last day, town time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from field_agent.domain.rights import TEMPORARY_ROLES

MAX_TEMPORARY_DAYS = 90
"""How far ahead a temporary member's last day may be set at once (enrolment or extension): a quarter, a long
outbreak's wave; a longer stay is extended, which keeps someone looking at who is still in the grid."""

TEMPORARY_NAMES = {
    "cadre": {"zh_CN": "下沉干部", "en": "cadre sent down"},
    "volunteer": {"zh_CN": "志愿者", "en": "volunteer"},
    "sampling_team": {"zh_CN": "流动采样队", "en": "mobile sampling team"},
}
assert set(TEMPORARY_NAMES) == set(TEMPORARY_ROLES)


def parse_day(text: object) -> date | None:
    """An ISO date (``2026-12-31``), or None when ``text`` is not one."""
    if not isinstance(text, str) or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def has_ended(until: object, today: date) -> bool:
    """Whether a membership whose last day is ``until`` (ISO date; None: the grid's own staff, never) is over on
    ``today`` (the town's date): it works through its last day and stops the day after. An unreadable date ends it
    (a device whose end cannot be read is not let in)."""
    if until is None:
        return False
    last = parse_day(until)
    return last is None or today > last


def member_ended(member: Mapping[str, Any], today: date) -> bool:
    """Whether a grid member is a temporary member past their last day."""
    return member.get("temporary") is not None and has_ended(member.get("until"), today)


def latest_end(today: date) -> date:
    """The furthest last day a temporary membership may be given on ``today``."""
    return today + timedelta(days=MAX_TEMPORARY_DAYS)
