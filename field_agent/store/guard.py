"""One thread at a time inside a store: the terminal app saves from worker threads while a sync runs in another."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar


class HasLock(Protocol):
    """A store or one of its parts: it holds the store's re-entrant lock."""

    @property
    def _lock(self) -> AbstractContextManager[Any]: ...


S = TypeVar("S", bound=HasLock)
P = ParamSpec("P")
R = TypeVar("R")


def locked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a method of the store (or of one of its parts) under the store's re-entrant lock."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper
