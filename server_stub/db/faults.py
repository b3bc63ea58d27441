"""One log line per storage fault: a full disk, a read-only database or a replaced key file is logged when it
starts, not once per refused request (a tablet retries; a town has dozens of them)."""

from __future__ import annotations

import logging

# the server's log under ``field-server serve`` (uvicorn configures it); an admin command prints its one-line
# error itself, so nothing is logged where uvicorn did not set the log up
SERVER_LOG = "uvicorn.error"


class FaultLog:
    """Remembers the fault last logged by this process; ``clear`` once a write succeeds again."""

    def __init__(self) -> None:
        self.current: str | None = None

    def note(self, message: str) -> None:
        if message == self.current:
            return
        self.current = message
        log = logging.getLogger(SERVER_LOG)
        if log.hasHandlers():
            log.error("field-server: %s", message)

    def clear(self) -> None:
        self.current = None
