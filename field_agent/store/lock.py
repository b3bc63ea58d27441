"""One writer per store: an advisory lock on ``store.lock``, released by the OS if the process dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from field_agent.store.errors import StoreLocked

LOCK_NAME = "store.lock"


class StoreLock:
    """Held while a store is open; a second open of the same store fails with StoreLocked."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip() or None
            os.close(self._fd)
            raise StoreLocked(directory, holder) from None
        with contextlib.suppress(OSError):  # the pid only helps the "open in another program" message
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode("ascii"), 0)

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
