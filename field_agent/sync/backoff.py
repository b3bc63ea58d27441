"""Retries with exponential backoff and full jitter that honour the server's Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from field_agent.sync.errors import RateLimited, ServerError, SyncError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
OnWait = Callable[[SyncError, float, int], Awaitable[None] | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request before the run gives up (and tries again later)."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 20.0
    budget_s: float = 90.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): full jitter, never below Retry-After."""
        ceiling = min(self.cap_s, self.base_s * (2**attempt))
        jittered = (rng or random).uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _retry_after(error: SyncError) -> float | None:
    if isinstance(error, RateLimited | ServerError):
        return error.retry_after
    return None


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    on_wait: OnWait | None = None,
    rng: random.Random | None = None,
) -> T:
    """Run ``call``; on a retryable SyncError wait and try again, up to the policy's attempts and time budget."""
    waited = 0.0
    attempt = 0
    while True:
        try:
            return await call()
        except SyncError as error:
            if not error.retryable or attempt + 1 >= policy.attempts:
                raise
            pause = policy.delay(attempt, _retry_after(error), rng)
            if waited + pause > policy.budget_s:
                raise
            if on_wait is not None:
                outcome = on_wait(error, pause, attempt + 1)
                if inspect.isawaitable(outcome):
                    await outcome
            await sleep(pause)
            waited += pause
            attempt += 1
