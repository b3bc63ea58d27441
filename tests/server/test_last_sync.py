"""A pull is a sync: a tablet with nothing to push that received its grid shows when it did, on the office overview
and in ``field-server device list`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from click.testing import CliRunner

from field_agent.domain.hlc import wall_ms
from server_stub.cli import cli
from server_stub.office import issue_office_token

from .harness import Harness, household


async def _office_devices(server: Harness) -> dict[str, dict[str, Any]]:
    token = issue_office_token(server.db)
    response = await server.client(token).get("/v1/office/overview")
    assert response.status_code == 200, response.text
    return {d["worker"]: d for grid in response.json()["grids"] for d in grid["devices"]}


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


async def test_a_tablet_that_only_pulled_shows_its_last_sync(any_server: Harness) -> None:
    grid = any_server.grid()
    idle = await any_server.tablet(grid, worker="只下载")
    await any_server.tablet(grid, worker="没同步")
    before = wall_ms() // 1000 * 1000
    assert await idle.pull_all() != []  # the grid record: received, nothing pushed
    after = wall_ms()
    devices = await _office_devices(any_server)
    assert devices["只下载"]["last_sync"] is not None
    assert before <= _ms(devices["只下载"]["last_sync"]) <= after
    assert devices["没同步"]["last_sync"] is None  # enrolled, never synced: still 从未同步
    listed = CliRunner().invoke(cli, ["device", "list", "--json", "--db", any_server.db.url])
    assert listed.exit_code == 0, listed.output
    rows = {row["worker"]: row for row in json.loads(listed.stdout)["devices"]}
    assert before <= rows["只下载"]["last_sync"] <= after and rows["没同步"]["last_sync"] is None


async def test_only_the_last_page_counts_as_a_sync(any_server: Harness) -> None:
    grid = any_server.grid()
    writer = await any_server.tablet(grid, worker="写入")
    await writer.push_ok([writer.edit(values=household(f"{n}栋1单元101")) for n in range(3)])
    reader = await any_server.tablet(grid, worker="读取")
    first = await reader.client.get("/v1/pull", params={"cursor": 0, "limit": 1})
    assert first.json()["more"] is True
    assert (await _office_devices(any_server))["读取"]["last_sync"] is None  # mid-way through its grid
    await reader.pull_all(limit=500)
    assert (await _office_devices(any_server))["读取"]["last_sync"] is not None


def test_a_pull_never_moves_the_last_sync_back(db_url: str) -> None:
    """A push committed (``mark_synced``) after a pull's note was taken but before it was written keeps its time."""
    from server_stub.db import open_database
    from server_stub.records import create_grid

    db = open_database(db_url)
    try:
        grid = create_grid(db, town="玉屏街道", name="一网格", community="东门社区")
        with db.transaction() as tx:
            tx.insert_device({"id": "dev-a", "grid": grid, "worker": "王芳", "role": "worker", "name": "tablet",
                              "node_id": "0000000000aa", "created": 1_000, "token_hash": "h"})  # fmt: skip
            tx.mark_synced("dev-a", 5_000)
        db.note_synced("dev-a", 4_000)
        (device,) = db.list_devices()
        assert device["last_sync"] == device["last_seen"] == 5_000
        db.note_synced("dev-a", 6_000)
        (device,) = db.list_devices()
        assert device["last_sync"] == device["last_seen"] == 6_000
    finally:
        db.close()
