"""Guards in front of the handlers: request body size, value depth and length, and enrolment attempts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from field_agent.domain.hlc import wall_ms
from server_stub.compression import ACCEPTED, BadEncoding, BodyTooLarge, decode_body, off_loop
from server_stub.config import Settings
from server_stub.db.base import Database
from server_stub.errors import RateLimited, RequestInvalid


class BodyLimit:
    """ASGI middleware: read the whole body up to ``max_bytes`` before the app sees it, or answer 413.

    A compressed body (``Content-Encoding``) is decompressed here, under the same limit on its decompressed size
    (``compression.decode_body``), and the app sees it plain; an unknown encoding is answered 415, a body that is
    not what its encoding says 400."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        encoding = headers.get(b"content-encoding")
        if encoding is not None:
            try:
                body = await off_loop(decode_body, encoding.decode("latin-1"), body, self.max_bytes)
            except BodyTooLarge:
                await self._too_large(send, decompressed=True)
                return
            except BadEncoding as error:
                await self._refuse(send, 415 if error.unknown else 400, str(error), unknown=error.unknown)
                return
            plain = [(key, value) for key, value in scope["headers"] if key not in _ENCODED_HEADERS]
            scope = {**scope, "headers": [*plain, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send, *, decompressed: bool = False) -> None:
        what = "request body decompressed" if decompressed else "request body"
        message = f"{what} is larger than {self.max_bytes} bytes: send fewer changes per batch"
        await _answer(send, 413, "body_too_large", message)

    async def _refuse(self, send: Send, status: int, message: str, *, unknown: bool) -> None:
        # RFC 7694: a 415 for a content coding names the codings the server reads
        extra = [(b"accept-encoding", ACCEPTED.encode())] if unknown else []
        await _answer(send, status, "unsupported_encoding" if unknown else "bad_encoding", message, extra)


_ENCODED_HEADERS = (b"content-encoding", b"content-length")


async def _answer(send: Send, status: int, code: str, message: str, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# the integers the database's JSON (orjson) can hold: a signed or an unsigned 64-bit one
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
# orjson reads an integer beyond 64 bits as a float: a float this large may have been written as one
_FLOAT_BOUND = 2.0**63


def check_values(changes: list[dict[str, Any]], settings: Settings) -> bool:
    """Refuse (422, naming the field) values nested too deep or strings too long anywhere in a batch.

    Returns whether some value may hold a number beyond 64 bits (an integer, or a float as large, which orjson may
    have read from such an integer). Not refused here: ``push`` refuses each change that carries an integer the
    database cannot store, and applies the rest of the batch."""
    limit = settings.max_string_length
    wide = False
    for index, change in enumerate(changes):
        for name, write in change["fields"].items():
            value = write["value"]
            kind = type(value)
            if kind is str:
                if len(value) > limit:
                    _check(value, _Where(f"changes.{index}.fields.{name}.value"), 0, settings)
            elif kind is int:
                if not _INT_MIN <= value <= _INT_MAX:
                    wide = True
            elif kind is float:
                if not -_FLOAT_BOUND < value < _FLOAT_BOUND:
                    wide = True
            elif kind is dict or kind is list:
                wide = _check(value, _Where(f"changes.{index}.fields.{name}.value"), 0, settings) or wide
    return wide


class _Where:
    """A value's place in the batch, spelled out only when a limit refuses it."""

    __slots__ = ("key", "parent")

    def __init__(self, key: object, parent: _Where | None = None) -> None:
        self.key, self.parent = key, parent

    def __str__(self) -> str:
        return f"{self.parent}.{self.key}" if self.parent is not None else str(self.key)


def _check(value: Any, where: _Where, depth: int, settings: Settings) -> bool:
    """The limits on one value (as check_values); True when it may hold a number beyond 64 bits."""
    if isinstance(value, str):
        if len(value) > settings.max_string_length:
            raise RequestInvalid(
                f"{where}: text of {len(value)} characters is longer than the limit of {settings.max_string_length}",
                code="value_too_long",
            )
        return False
    if isinstance(value, dict | list):
        if depth >= settings.max_value_depth:
            raise RequestInvalid(
                f"{where}: value nested deeper than {settings.max_value_depth} levels", code="value_too_deep"
            )
        wide = False
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > settings.max_string_length:
                raise RequestInvalid(
                    f"{where}: a key is longer than {settings.max_string_length}", code="value_too_long"
                )
            wide = _check(item, _Where(key, where), depth + 1, settings) or wide
        return wide
    if type(value) is float:
        return not -_FLOAT_BOUND < value < _FLOAT_BOUND
    return type(value) is int and not _INT_MIN <= value <= _INT_MAX


class RateLimiter:
    """At most ``attempts`` per ``window_s`` seconds per client address: a sliding window kept in the database, so
    it holds across all worker processes of one server (and across restarts)."""

    def __init__(self, db: Database, attempts: int, window_s: float, clock: Callable[[], int] = wall_ms) -> None:
        self.db = db
        self.attempts = attempts
        self.window_ms = max(1, round(window_s * 1000))
        self._clock = clock

    def hit(self, address: str) -> None:
        """Count one attempt, or raise RateLimited with the seconds to wait."""
        wait = self.db.note_enroll_attempt(address, self._clock(), self.window_ms, self.attempts)
        if wait is not None:
            raise RateLimited(
                f"too many enrolment attempts from this address: try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
