"""Read a push body into plain dicts: orjson and a direct check for well-formed batches, pydantic for the rest.

A batch that fits the wire format (``PushRequest``) exactly and within the value limits is taken straight from
``orjson.loads``, with each change's missing parts filled in as ``PushRequest(...).model_dump()`` would. Anything
else — bad JSON, a schema violation, a value the limits refuse, or even a value pydantic would merely coerce — goes
through the original path (``PushRequest.model_validate_json`` then ``check_values``), so every error answer, and
every accepted-but-coerced body, is exactly what it was before the fast path existed.
"""

from __future__ import annotations

import re
from typing import Any, get_args

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from field_agent.protocol.wire import MAX_BATCH_CHANGES, MAX_NAME_LENGTH, PushRequest, RecordKind
from server_stub.config import Settings
from server_stub.limits import check_values

_REQUEST_KEYS = frozenset(("batch_id", "changes"))
_CHANGE_KEYS = frozenset(("record", "kind", "grid", "fields", "sets", "base", "resolve"))
_KINDS = frozenset(get_args(RecordKind))
# ASCII-only versions of the protocol's patterns: never looser than pydantic's, so the fast path accepts a subset
_BATCH_ID = re.compile(r"[0-9A-Za-z_-]{8,64}")
_RECORD_ID = re.compile(r"[0-9A-Za-z_.:-]{1,64}")
_STAMP = re.compile(r"[0-9]{15}-[0-9]{5}-[0-9a-f]{12}")
_SCALARS = (str, int, bool, type(None))
# orjson reads an integer beyond 64 bits as a float, where pydantic keeps an int: such values take the slow path
_FLOAT_BOUND = 2.0**63
_stamp_match = _STAMP.fullmatch
_id_match = _RECORD_ID.fullmatch


class _Slow(Exception):
    """The body is not plainly well-formed: let the original (pydantic) path decide about it."""


def parse_push(body: bytes, settings: Settings) -> tuple[str, list[dict[str, Any]], bool]:
    """The batch id and the changes (as ``Change.model_dump()`` dicts) of a push body, and whether it took the
    pydantic path (whose values may hold integers beyond 64 bits, which the database's JSON cannot store).

    Raises RequestValidationError (400/422 via the app's handler) or RequestInvalid (422) exactly as the
    pydantic path does.
    """
    try:
        data = orjson.loads(body)
        return (*_fast(data, settings), False)
    except (orjson.JSONDecodeError, _Slow):
        return (*_slow(body, settings), True)


def _slow(body: bytes, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    try:
        request = PushRequest.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False, include_context=False)) from error
    check_values(request, settings)
    return request.batch_id, request.model_dump(include={"changes"})["changes"]


def _fast(data: Any, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    if type(data) is not dict or data.keys() != _REQUEST_KEYS:
        raise _Slow
    batch_id, changes = data["batch_id"], data["changes"]
    if type(batch_id) is not str or not _BATCH_ID.fullmatch(batch_id):
        raise _Slow
    if type(changes) is not list or len(changes) > MAX_BATCH_CHANGES:
        raise _Slow
    limit, depth = settings.max_string_length, settings.max_value_depth
    return batch_id, [_change(change, limit, depth) for change in changes]


def _change(change: Any, limit: int, depth: int) -> dict[str, Any]:
    if type(change) is not dict or not change.keys() <= _CHANGE_KEYS:
        raise _Slow
    record, kind, grid = change.get("record"), change.get("kind"), change.get("grid")
    if not (_is_id(record) and _is_id(grid) and type(kind) is str and kind in _KINDS):
        raise _Slow
    fields = change.get("fields", {})
    sets = change.get("sets", {})
    base = change.get("base", {})
    resolve = change.get("resolve", {})
    if not (type(fields) is dict and type(sets) is dict and type(base) is dict and type(resolve) is dict):
        raise _Slow
    for name, write in fields.items():
        # exactly the keys "value" and "stamp" (cheaper than comparing key views with a set)
        if not 1 <= len(name) <= MAX_NAME_LENGTH or type(write) is not dict or len(write) != 2:
            raise _Slow
        if "value" not in write or "stamp" not in write:
            raise _Slow
        stamp = write["stamp"]
        if type(stamp) is not str or _stamp_match(stamp) is None:
            raise _Slow
        value = write["value"]
        if type(value) is str:
            if len(value) > limit:
                raise _Slow
        elif type(value) not in _SCALARS:
            _check_nested(value, 0, limit, depth)
    for name, elements in sets.items():
        if not 1 <= len(name) <= MAX_NAME_LENGTH or type(elements) is not dict:
            raise _Slow
        for element, write in elements.items():
            if not 1 <= len(element) <= MAX_NAME_LENGTH or type(write) is not dict or len(write) != 2:
                raise _Slow
            if "present" not in write or "stamp" not in write:
                raise _Slow
            if type(write["present"]) is not bool or not _is_stamp(write["stamp"]):
                raise _Slow
    for name, stamp in base.items():
        if not 1 <= len(name) <= MAX_NAME_LENGTH or not _is_stamp(stamp):
            raise _Slow
    for cid, stamp in resolve.items():
        if len(cid) > 128 or not _is_stamp(stamp):
            raise _Slow
    return {
        "record": record,
        "kind": kind,
        "grid": grid,
        "fields": fields,
        "sets": sets,
        "base": base,
        "resolve": resolve,
    }


def _check_nested(value: Any, level: int, limit: int, depth: int) -> None:
    """Mirror of ``limits.check_values`` for one value: any breach sends the body down the original path."""
    if type(value) is str:
        if len(value) > limit:
            raise _Slow
        return
    if type(value) in _SCALARS:
        return
    if type(value) is float:
        if not -_FLOAT_BOUND < value < _FLOAT_BOUND:
            raise _Slow
        return
    if type(value) is not dict and type(value) is not list:
        raise _Slow
    if level >= depth:
        raise _Slow
    items = value.items() if type(value) is dict else enumerate(value)
    for key, item in items:
        if type(key) is str and len(key) > limit:
            raise _Slow
        _check_nested(item, level + 1, limit, depth)


def _is_id(value: Any) -> bool:
    return type(value) is str and _id_match(value) is not None


def _is_stamp(value: Any) -> bool:
    return type(value) is str and _stamp_match(value) is not None
