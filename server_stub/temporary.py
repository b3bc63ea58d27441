"""Temporary members' devices (docs/SERVER.md "Temporary members"): their last day checked at enrolment and on
every request, extended by the office, and the member placed on the grid record so the leader sees them.

A temporary device's last day (``devices.ends_on``, an ISO date in the town's time zone) is its enrolment code's;
after that day every request of the device is refused with ``device_expired`` (nothing it wrote is touched).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from field_agent.domain.membership import MAX_TEMPORARY_DAYS, has_ended, latest_end, parse_day
from field_agent.domain.rights import TEMPORARY_ROLES, is_temporary
from server_stub.db.base import Database
from server_stub.errors import AuthError, NotFound, RequestInvalid
from server_stub.records import Edit, write_records
from server_stub.town_time import town_today

ROLE_WORDS = {"cadre": "a cadre", "volunteer": "a volunteer", "sampling_team": "the sampling team"}


def check_until(role: str, until: str | None, today: dt.date | None = None) -> str | None:
    """The last day of a code for ``role`` (ISO date), or RequestInvalid with one line saying what to give."""
    today = today or town_today()
    if not is_temporary(role):
        if until is not None:
            raise RequestInvalid(
                f"--until is for temporary members ({', '.join(TEMPORARY_ROLES)}): a {role}'s device does not end",
                code="until_not_temporary",
            )
        return None
    if until is None:
        raise RequestInvalid(
            f"{ROLE_WORDS[role]}'s code needs --until DATE, their last day (town time), e.g. --until "
            f"{(today + dt.timedelta(days=30)).isoformat()}",
            code="until_missing",
        )
    return check_day(until, today)


def check_day(until: str, today: dt.date | None = None) -> str:
    """A temporary member's new last day: a real date, not past, at most ``MAX_TEMPORARY_DAYS`` ahead."""
    today = today or town_today()
    last = parse_day(until.strip())
    if last is None:
        raise RequestInvalid(f"--until {until[:20]!r} is not a date like 2026-12-31", code="until_invalid")
    if last < today:
        raise RequestInvalid(
            f"--until {last.isoformat()} is in the past (today is {today.isoformat()} in the town)", code="until_past"
        )
    if last > latest_end(today):
        raise RequestInvalid(
            f"--until {last.isoformat()} is more than {MAX_TEMPORARY_DAYS} days away: give at most "
            f"{latest_end(today).isoformat()} and extend later with 'field-server device extend'",
            code="until_too_far",
        )
    return last.isoformat()


def check_not_ended(device: dict[str, Any], today: dt.date | None = None) -> None:
    """AuthError ``device_expired`` when a temporary member's device is past its last day."""
    ends_on = device.get("ends_on")
    if ends_on is not None and has_ended(ends_on, today or town_today()):
        raise AuthError(
            f"临时成员期限已于 {ends_on} 结束，本设备不能再同步，已录入的记录留在网格中；如需继续请网格长联系镇办延期 "
            f"(this temporary member's device ended on {ends_on}: its records stay with the grid; "
            "ask the grid leader to have the town office extend it)",
            code="device_expired",
        )


def place_member(db: Database, grid: str, name: str, role: str, until: str, group: str | None) -> None:
    """Put a temporary member on the grid record's ``members`` (or update their kind, last day and group), so the
    leader sees them and places them in a group. A permanent member of the same name is refused: work is recorded
    under a name, so two people must not share one (the message never repeats it)."""
    record = db.get_record(grid)
    fields = record["fields"] if record is not None else {}
    members = [dict(m) for m in fields.get("members") or [] if isinstance(m, dict)]
    found = next((m for m in members if m.get("name") == name), None)
    if found is not None and found.get("temporary") is None:
        raise RequestInvalid(
            "a permanent member of this grid has this name: give the temporary member a name of their own "
            "(e.g. with their unit in brackets)",
            code="name_taken",
        )
    if found is None:
        leader = fields.get("leader")
        if not members and isinstance(leader, str) and leader and leader != name:
            members.append({"name": leader})  # a grid's leader is one of its members once it lists any
        found = {"name": name}
        members.append(found)
    found.update({"temporary": role, "until": until})
    if group is not None:
        found["group"] = group
    write_records(db, grid, [Edit("grid", grid, {"members": members})])


def extend_device(db: Database, device_id: str, until: str, today: dt.date | None = None) -> dict[str, Any]:
    """Move a temporary member's device's last day (and the member's on the grid record); returns the device."""
    device = next((row for row in db.list_devices() if row["id"] == device_id), None)
    if device is None:
        raise NotFound(f"no device {device_id!r}: see 'field-server device list'", code="device_not_found")
    if device["ends_on"] is None:
        raise RequestInvalid("this device is not a temporary member's: it has no last day", code="not_temporary")
    last = check_day(until, today)
    with db.transaction() as tx:
        tx.set_device_ends(device_id, last)
    record = db.get_record(device["grid"])
    members = (record or {}).get("fields", {}).get("members") or []
    if any(isinstance(m, dict) and m.get("name") == device["worker"] and m.get("temporary") for m in members):
        place_member(db, device["grid"], device["worker"], device["role"], last, None)
    return {**device, "ends_on": last}
