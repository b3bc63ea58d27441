"""``field-server serve --access-log``: one line per request on stderr, with no token and no personal data.

A line holds the time (in the town's time zone: ``server_stub/town_time.py``), the method, the route, the status and
the time taken. The route is its template (``/office/ledgers/{name}.xlsx``), never the query string (where a town or
grid is named) nor a path that matched no route (the client chose it; the line says ``(unmatched)``). Client
addresses, headers and bodies are never written.
"""

from __future__ import annotations

import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.town_time import town_now

LOGGER = "field_server.access"


def access_logger() -> logging.Logger:
    """The access logger, writing to stderr (set up once per process)."""
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class AccessLog:
    """ASGI middleware writing one access line per HTTP request once its answer has been sent (or has failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = access_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception escaping the app becomes the server's 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            took = (time.perf_counter() - started) * 1000
            when = town_now().isoformat(timespec="seconds")
            self.logger.info("%s %s %s %d %.0fms", when, scope.get("method", "-"), route, status, took)
