"""Hybrid logical clock: stamps that order events across devices whose wall clocks disagree.

A stamp is the fixed-width string ``PPPPPPPPPPPPPPP-CCCCC-NNNNNNNNNNNN``: physical milliseconds (15 digits),
a counter (5 digits) and the node id (12 hex digits), so comparing strings compares stamps.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

STAMP_RE = re.compile(r"^(\d{15})-(\d{5})-([0-9a-f]{12})$")
MAX_COUNTER = 99_999
DEFAULT_MAX_FUTURE_MS = 7 * 24 * 3600 * 1000


class StampError(ValueError):
    """A stamp that is malformed or lies too far in the future."""


@dataclass(frozen=True, order=True, slots=True)
class Stamp:
    physical_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.physical_ms:015d}-{self.counter:05d}-{self.node}"


def parse_stamp(text: str) -> Stamp:
    """Parse a stamp string, raising StampError with the reason when it is malformed."""
    match = STAMP_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise StampError(f"malformed stamp {text!r}: expected 15 digits-5 digits-12 hex digits")
    return Stamp(int(match.group(1)), int(match.group(2)), match.group(3))


def stamp_node(text: str) -> str:
    """The node id that made a stamp."""
    return text[-12:]


def stamp_ms(text: str) -> int:
    """The physical milliseconds of a stamp."""
    return int(text[:15])


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def check_not_future(text: str, now_ms: int | None = None, max_future_ms: int = DEFAULT_MAX_FUTURE_MS) -> None:
    """Refuse a stamp more than ``max_future_ms`` ahead of this machine's clock."""
    stamp = parse_stamp(text)
    now = wall_ms() if now_ms is None else now_ms
    ahead = stamp.physical_ms - now
    if ahead > max_future_ms:
        hours = ahead / 3_600_000
        raise StampError(
            f"stamp {text} is {hours:.1f} h ahead of the server clock (limit "
            f"{max_future_ms / 3_600_000:.0f} h): check the device's date and time"
        )


class HybridClock:
    """A node's HLC. Thread-safe; monotonic even when the wall clock steps back."""

    def __init__(self, node: str, last: str | None = None, now_ms: Callable[[], int] = wall_ms) -> None:
        if not re.fullmatch(r"[0-9a-f]{12}", node):
            raise StampError(f"node id {node!r} must be 12 lowercase hex digits")
        self.node = node
        self._now_ms = now_ms
        self._lock = threading.Lock()
        if last is None:
            self._physical, self._counter = 0, 0
        else:
            previous = parse_stamp(last)
            self._physical, self._counter = previous.physical_ms, previous.counter

    @property
    def last(self) -> str:
        return str(Stamp(self._physical, self._counter, self.node))

    def now(self) -> str:
        """Stamp a local event."""
        with self._lock:
            wall = self._now_ms()
            if wall > self._physical:
                self._physical, self._counter = wall, 0
            else:
                self._advance_counter()
            return self.last

    def observe(self, remote: str) -> None:
        """Move past a stamp received from another node, so later local stamps sort after it."""
        other = parse_stamp(remote)
        with self._lock:
            wall = self._now_ms()
            top = max(wall, self._physical, other.physical_ms)
            if top == self._physical and top == other.physical_ms:
                self._counter = max(self._counter, other.counter)
                self._advance_counter()
            elif top == self._physical:
                self._advance_counter()
            elif top == other.physical_ms:
                self._physical, self._counter = top, other.counter
                self._advance_counter()
            else:
                self._physical, self._counter = top, 0

    def _advance_counter(self) -> None:
        if self._counter >= MAX_COUNTER:
            self._physical += 1
            self._counter = 0
        else:
            self._counter += 1
