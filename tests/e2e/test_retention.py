"""Retention on the tablet against a real town server on 127.0.0.1: the town office sets the window with
``field-server town retention``, a sync delivers it, old acknowledged records of finished work leave the tablet
and its log (no frame decrypts to their values any more), unsettled and open work stays, and ``field-agent records
get`` of a retired id brings it back intact from the server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result
from server.test_erasure import frames_holding

from field_agent.cli.main import cli
from field_agent.domain.hlc import HybridClock, wall_ms
from field_agent.store import Store
from field_agent.store.salvage import PULL_EVERYTHING_KEY
from field_agent.sync.lookup import lookup_record
from server_stub.cli import cli as server_cli

from .harness import PASSPHRASE, Town, enrolled, normal, sync

NOTE = "旧访视记录甲乙丙丁"
OLD_TITLE = "发放防疫物资（旧）"
TASK = {"task_kind": "publicity", "role": "publicity"}


def fa(store: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def office(town: Town, *args: str) -> Result:
    result = CliRunner().invoke(server_cli, [*args, "--db", town.db.url])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def own_town(tmp_path: Path) -> Iterator[Town]:
    town = Town(tmp_path / "town").start()  # its own: the window is the whole town's
    yield town
    town.stop()


def set_back(store: Store, days: int) -> None:
    """The tablet's clock ``days`` in the past, as if its records were made then."""
    then = wall_ms() - days * 86_400_000
    store.clock = HybridClock(store.node_id, now_ms=lambda: then)


def old_work(store: Store) -> dict[str, str]:
    then = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=10)).isoformat(timespec="seconds")
    set_back(store, 10)
    household = store.put("household", {"address": "东门社区3栋1单元301"})["id"]
    return {
        "household": household,
        "visit": store.put(
            "visit", {"household": household, "visited_at": then, "outcome": "met", "worker": "王丽", "notes": NOTE}
        )["id"],
        "done_task": store.put("task", {**TASK, "title": OLD_TITLE, "status": "done"})["id"],
        "open_task": store.put("task", {**TASK, "title": "入户排查", "status": "open"})["id"],
    }


async def test_old_acknowledged_records_leave_the_tablet_and_come_back_from_the_server(
    own_town: Town, tmp_path: Path
) -> None:
    grid = own_town.new_grid()
    assert "14 days" in office(own_town, "town", "retention").output  # the default
    assert orjson.loads(office(own_town, "town", "retention", "--days", "off", "--json").stdout) == {
        "tablet_retention_days": None
    }
    store = await enrolled(own_town, grid, tmp_path, "王丽")
    directory = store.path
    ids = old_work(store)
    first = await sync(store)
    assert first.pushed == 4 and first.retired == 0  # the town keeps everything on the tablets
    before = {name: store.get(record_id) for name, record_id in ids.items()}
    # a change the server refuses (a worker may not retitle a task) keeps the old done task; it is unsettled
    store.put("task", {"title": "改过的标题"}, record_id=ids["done_task"])
    store.close()
    assert frames_holding(directory, [NOTE])  # the check below can see the value while it is there

    office(own_town, "town", "retention", "--days", "3")
    store = Store.open(directory, PASSPHRASE)
    result = await sync(store)

    assert result.refused == 1 and result.retired == 1
    assert store.meta_get("tablet_retention_days") == 3
    assert store.get(ids["visit"]) is None  # old, acknowledged, finished: gone from the tablet
    assert store.get(ids["done_task"]) is not None  # a refused change awaits a person
    assert store.get(ids["open_task"]) is not None and store.get(ids["household"]) is not None
    assert store.pending_count() == 0
    again = await sync(store)
    assert (again.pulled, again.pushed, again.retired) == (0, 0, 0)  # no pull sends it back
    assert store.get(ids["visit"]) is None
    assert normal(own_town.records(grid)[ids["visit"]]) == normal(before["visit"])  # the server still has it
    # a salvaged store pulls everything again (its own pushes too): the old record comes back, then goes again
    store.meta_set("cursor", 0)
    store.meta_set(PULL_EVERYTHING_KEY, True)
    refill = await sync(store)
    assert refill.pulled == 1 and refill.retired == 1  # "pulled" counts what changed here: the retired one
    assert store.get(ids["visit"]) is None
    assert store.meta_get(PULL_EVERYTHING_KEY) is False
    store.close()
    assert frames_holding(directory, [NOTE]) == []  # compacted: no frame decrypts to the retired note
    await asyncio.to_thread(through_the_cli, directory, ids, before)


def through_the_cli(directory: Path, ids: dict[str, str], before: dict[str, Any]) -> None:
    """``status`` counts what left; ``records get`` of a retired id asks the server (the CLI runs its own loop)."""
    status = orjson.loads(fa(directory, "status", "--json").stdout)
    assert status["retired"]["total"] == 2 and status["retention_days"] == 3
    assert status["records_held"] == 4  # grid, household, two tasks
    assert "retired (kept on the server): 2" in fa(directory, "status").stdout

    looked_up = fa(directory, "records", "get", ids["visit"], "--envelope")
    assert looked_up.exit_code == 0, looked_up.output
    envelope = orjson.loads(looked_up.stdout)
    assert envelope.pop("_source") == "server"
    assert normal(envelope) == normal(before["visit"])  # same fields and stamps as before retirement
    plain = fa(directory, "records", "get", ids["visit"])
    assert "from the town server" in plain.stdout and NOTE in plain.stdout
    assert fa(directory, "records", "get", "0193a1b2-0000-7000-8000-00000000dead").exit_code == 1


async def test_lookup_is_grid_scoped_and_answers_another_grids_record_as_missing(
    own_town: Town, tmp_path: Path
) -> None:
    ours, theirs = own_town.new_grid("东门"), own_town.new_grid("西门")
    store = await enrolled(own_town, ours, tmp_path, "王丽")
    other = await enrolled(own_town, theirs, tmp_path, "李四")
    foreign = other.put("household", {"address": "西门社区1栋"})["id"]
    await sync(other)
    own = store.put("household", {"address": "东门社区1栋"})["id"]
    await sync(store)

    assert (await lookup_record(store, own)) == store.get(own)
    assert await lookup_record(store, foreign) is None
    token = store.meta_get("token")

    def ask(record_id: str) -> tuple[int, Any]:
        answer = httpx.get(f"{own_town.url}/v1/records/{record_id}", headers={"authorization": f"Bearer {token}"})
        return answer.status_code, answer.json()

    missing, of_other_grid = (
        await asyncio.to_thread(ask, "0193a1b2-0000-7000-8000-00000000dead"),
        await asyncio.to_thread(ask, foreign),
    )
    assert missing == of_other_grid and missing[0] == 404
    assert httpx.get(f"{own_town.url}/v1/records/{own}").status_code == 401
    store.close()
    other.close()
