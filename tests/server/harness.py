"""A town server over a real database, with simulated tablets speaking HTTP to it through httpx.ASGITransport."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import httpx

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id
from field_agent.protocol.merge import merge_envelopes
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

_batches = itertools.count(1)


def household(address: str = "3栋2单元501", **extra: Any) -> dict[str, Any]:
    return {"address": address, **extra}


class Tablet:
    """One enrolled device: its HTTP client, its clock, and its replica of the grid."""

    def __init__(self, client: httpx.AsyncClient, enrolment: dict[str, Any], node: str, clock: HybridClock) -> None:
        self.client = client
        self.enrolment = enrolment
        self.node = node
        self.clock = clock
        self.replica: dict[str, dict[str, Any]] = {}
        self.cursor = 0

    @property
    def grid(self) -> str:
        return str(self.enrolment["grid"])

    def edit(
        self,
        record_id: str | None = None,
        kind: str = "household",
        values: Mapping[str, Any] | None = None,
        sets: Mapping[str, Mapping[str, bool]] | None = None,
        resolve: tuple[str, ...] = (),
        grid: str | None = None,
    ) -> dict[str, Any]:
        """Edit the local replica and return the change to push."""
        record_id = record_id or new_id()
        envelope, change = local_edit(
            self.replica.get(record_id),
            self.clock,
            record_id=record_id,
            kind=kind,
            grid=grid or self.grid,
            values=values,
            set_changes=sets,
            resolve=resolve,
        )
        assert change is not None, "the edit changed nothing"
        self.replica[record_id] = envelope
        return change

    async def push(self, changes: list[dict[str, Any]], batch_id: str | None = None) -> httpx.Response:
        batch_id = batch_id or f"batch-{next(_batches):06d}-{self.node}"
        return await self.client.post("/v1/push", json={"batch_id": batch_id, "changes": changes})

    async def push_ok(self, changes: list[dict[str, Any]], batch_id: str | None = None) -> list[dict[str, Any]]:
        response = await self.push(changes, batch_id)
        assert response.status_code == 200, response.text
        return list(response.json()["results"])

    async def pull_all(self, limit: int = 500, *, skip_own: bool = False) -> list[dict[str, Any]]:
        """Pull every page since the last cursor, merging into the replica; returns what came."""
        received: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"cursor": self.cursor, "limit": limit}
            if skip_own:
                params["skip_own"] = "true"
            response = await self.client.get("/v1/pull", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            for envelope in page["records"]:
                current = self.replica.get(envelope["id"])
                self.replica[envelope["id"]] = envelope if current is None else merge_envelopes(current, envelope)
                self.clock.observe(max([*envelope["stamps"].values()], default=self.clock.last))
            received.extend(page["records"])
            self.cursor = page["next_cursor"]
            if not page["more"]:
                return received


class Harness:
    """A server app over one database URL; grids, codes and tablets on demand."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.db = open_database(url)
        self.settings = settings or Settings(enroll_attempts=10_000)
        self.app = create_app(self.db, self.settings)
        self.transport = httpx.ASGITransport(app=self.app)
        self.clients: list[httpx.AsyncClient] = []

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(transport=self.transport, base_url="http://town.test", headers=headers)
        self.clients.append(client)
        return client

    def grid(self, name: str = "一网格", town: str = "玉屏街道") -> str:
        return create_grid(self.db, town=town, name=name, community="东门社区")

    def code(self, grid: str, worker: str = "王芳", role: str = "worker", ttl_ms: int = 3_600_000) -> str:
        return str(issue_code(self.db, grid, worker, role, ttl_ms)["code"])

    async def tablet(self, grid: str, role: str = "worker", worker: str = "王芳", node: str | None = None) -> Tablet:
        node = node or new_node_id()
        response = await self.client().post(
            "/v1/enroll", json={"code": self.code(grid, worker, role), "node_id": node, "device_name": "tablet"}
        )
        assert response.status_code == 200, response.text
        enrolment = response.json()
        return Tablet(self.client(enrolment["token"]), enrolment, node, HybridClock(node))

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
        self.db.close()
