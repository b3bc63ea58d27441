"""A fast check that a change fits the wire format, so one malformed change is kept aside, not sent."""

from __future__ import annotations

import re
from typing import Any, get_args

from field_agent.protocol.wire import MAX_NAME_LENGTH, Change, RecordKind


def invalid_changes(changes: list[dict[str, Any]]) -> dict[int, str]:
    """Changes the server would refuse as malformed, by index, with the reason.

    Checked here so that one bad change is kept aside instead of making the server refuse the whole batch.
    """
    invalid: dict[int, str] = {}
    for index, change in enumerate(changes):
        problem = change_problem(change)
        if problem is not None:
            invalid[index] = problem
    return invalid


def change_problem(change: Any) -> str | None:
    """Why a change does not fit the wire format (``protocol.Change``), or None; fast enough for 10,000."""
    if type(change) is not dict or not change.keys() <= _CHANGE_KEYS or not change.keys() >= _REQUIRED_KEYS:
        return "not a change: it lacks record, kind or grid, or has unknown parts"
    if not _is_id(change["record"]) or not _is_id(change["grid"]):
        return "record or grid id is not a valid id"
    if change["kind"] not in _KINDS:
        return f"unknown record kind {change['kind']!r}"
    fields, sets = change.get("fields", {}), change.get("sets", {})
    base, resolve = change.get("base", {}), change.get("resolve", {})
    if not all(type(part) is dict for part in (fields, sets, base, resolve)):
        return "fields, sets, base and resolve must be objects"
    for name, entry in fields.items():
        if (
            not _is_name(name)
            or type(entry) is not dict
            or entry.keys() != _FIELD_KEYS
            or not _is_stamp(entry["stamp"])
        ):
            return f"field {str(name)[:80]!r}: name longer than {MAX_NAME_LENGTH} or malformed write"
    for name, elements in sets.items():
        if not _is_name(name) or type(elements) is not dict:
            return f"set {str(name)[:80]!r}: name longer than {MAX_NAME_LENGTH} or malformed"
        for element, entry in elements.items():
            if (
                not _is_name(element)
                or type(entry) is not dict
                or entry.keys() != _SET_KEYS
                or type(entry["present"]) is not bool
                or not _is_stamp(entry["stamp"])
            ):
                return f"set {name!r}: element {str(element)[:80]!r} is too long or malformed"
    for name, stamp in base.items():
        if not _is_name(name) or not _is_stamp(stamp):
            return f"base of {str(name)[:80]!r} is malformed"
    for cid, stamp in resolve.items():
        if type(cid) is not str or len(cid) > 128 or not _is_stamp(stamp):
            return "a conflict resolution is malformed"
    return None


_CHANGE_KEYS = frozenset(Change.model_fields)
_REQUIRED_KEYS = frozenset(("record", "kind", "grid"))
_FIELD_KEYS = frozenset(("value", "stamp"))
_SET_KEYS = frozenset(("present", "stamp"))
_KINDS = frozenset(get_args(RecordKind))
_ID_RE = re.compile(r"[0-9A-Za-z_.:-]{1,64}")
_STAMP_RE = re.compile(r"\d{15}-\d{5}-[0-9a-f]{12}")


def _is_id(value: Any) -> bool:
    return type(value) is str and _ID_RE.fullmatch(value) is not None


def _is_name(value: Any) -> bool:
    return type(value) is str and 1 <= len(value) <= MAX_NAME_LENGTH


def _is_stamp(value: Any) -> bool:
    return type(value) is str and _STAMP_RE.fullmatch(value) is not None
