"""Slowing down repeated wrong passphrases, without ever wiping data.

The failure count lives outside the sealed data (``unlock.attempts``) because it must be read before the key is
known. It only slows guessing on the device itself: an attacker who copies the files guesses offline, which is why
the passphrase policy, not this delay, is the real defence.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import orjson

from field_agent.store.fsutil import atomic_write

ATTEMPTS_NAME = "unlock.attempts"
FREE_TRIES = 3
MAX_DELAY_S = 60.0

sleep = time.sleep  # replaced in tests


def delay_for(failures: int) -> float:
    """Seconds to wait before the next try: none for the first three, then 1, 2, 4, … up to a minute."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures - FREE_TRIES))


def failures(directory: Path) -> int:
    try:
        return int(orjson.loads((directory / ATTEMPTS_NAME).read_bytes())["failures"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0


def wait_before_try(directory: Path) -> None:
    delay = delay_for(failures(directory))
    if delay:
        sleep(delay)


def record_failure(directory: Path) -> int:
    count = failures(directory) + 1
    with contextlib.suppress(OSError):  # a read-only medium must not turn a wrong passphrase into a crash
        atomic_write(directory / ATTEMPTS_NAME, orjson.dumps({"failures": count, "last_ms": time.time_ns() // 10**6}))
    return count


def record_success(directory: Path) -> None:
    if failures(directory):
        with contextlib.suppress(OSError):
            (directory / ATTEMPTS_NAME).unlink()
