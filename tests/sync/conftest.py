"""Fixtures for the sync agent's unit tests: a server model behind MockTransport and enrolled in-memory stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from field_agent.sync.agent import SyncAgent
from field_agent.sync.backoff import RetryPolicy

from .fakeserver import FakeServer
from .memstore import MemStore

URL = "http://town.test"


class Sleeps(list):
    """Records requested sleeps instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_device(server: FakeServer) -> Callable[..., MemStore]:
    def make(grid: str = "g1", **kwargs: object) -> MemStore:
        store = MemStore(grid=grid, **kwargs)  # type: ignore[arg-type]
        store.meta_set("server_url", URL)
        store.meta_set("token", server.add_device(grid))
        return store

    return make


@pytest.fixture
def make_agent(server: FakeServer, sleeps: Sleeps) -> Callable[..., SyncAgent]:
    def make(store: MemStore, **kwargs: object) -> SyncAgent:
        options: dict[str, object] = {
            "transport": server.transport(),
            "retry": RetryPolicy(attempts=4, base_s=0.5, cap_s=4, budget_s=60),
            "sleep": sleeps,
        }
        options.update(kwargs)
        return SyncAgent(store, **options)  # type: ignore[arg-type]

    return make
