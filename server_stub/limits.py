"""Guards in front of the handlers: request body size, value depth and length, and enrolment attempts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from field_agent.domain.hlc import wall_ms
from field_agent.protocol.wire import PushRequest
from server_stub.config import Settings
from server_stub.db.base import Database
from server_stub.errors import RateLimited, RequestInvalid


class BodyLimit:
    """ASGI middleware: read the whole body up to ``max_bytes`` before the app sees it, or answer 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
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
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "error": {
                    "code": "body_too_large",
                    "message": f"request body is larger than {self.max_bytes} bytes: send fewer changes per batch",
                }
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def check_values(request: PushRequest, settings: Settings) -> None:
    """Refuse (422, naming the field) values nested too deep or strings too long anywhere in a batch."""
    for index, change in enumerate(request.changes):
        for name, write in change.fields.items():
            _check(write.value, f"changes.{index}.fields.{name}.value", 0, settings)


def _check(value: Any, where: str, depth: int, settings: Settings) -> None:
    if isinstance(value, str):
        if len(value) > settings.max_string_length:
            raise RequestInvalid(
                f"{where}: text of {len(value)} characters is longer than the limit of {settings.max_string_length}",
                code="value_too_long",
            )
        return
    if isinstance(value, dict | list):
        if depth >= settings.max_value_depth:
            raise RequestInvalid(
                f"{where}: value nested deeper than {settings.max_value_depth} levels", code="value_too_deep"
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > settings.max_string_length:
                raise RequestInvalid(
                    f"{where}: a key is longer than {settings.max_string_length}", code="value_too_long"
                )
            _check(item, f"{where}.{key}", depth + 1, settings)


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
