"""Read a push body into plain dicts: the wire format's own validation, then the server's value limits.

``PUSH_REQUEST.validate_json`` (``field_agent.protocol.wire``) parses and checks the body in one pass and returns
plain dicts, each change with its missing parts filled in; ``limits.check_values`` then applies this server's
limits on the values (length of text, depth of nesting). The tablet checks its batches with the same adapter.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from field_agent.protocol.wire import PUSH_REQUEST
from server_stub.config import Settings
from server_stub.limits import check_values


def parse_push(body: bytes, settings: Settings) -> tuple[str, list[dict[str, Any]], bool]:
    """The batch id and the changes of a push body, and whether a value holds an integer beyond 64 bits (which
    the database's JSON cannot store: ``push`` then refuses those changes one by one).

    Raises RequestValidationError (400 for a body that is not JSON, 422 otherwise, via the app's handler) or
    RequestInvalid (422, ``value_too_long`` / ``value_too_deep``).
    """
    try:
        request = PUSH_REQUEST.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False, include_context=False)) from error
    changes: list[dict[str, Any]] = request["changes"]
    return request["batch_id"], changes, check_values(changes, settings)
