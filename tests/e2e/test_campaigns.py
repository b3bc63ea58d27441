"""A typhoon evacuation from the office's Excel sheet to two tablets and back, against a real town server on 127.0.0.1:
the office creates the campaign, both tablets receive it at their sync, record results offline (a wrong answer is
refused on the tablet, before anything is saved), sync, and the office sees who is left out, then 100%."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from field_agent.domain.errors import ValidationError
from field_agent.domain.idnumber import make_id_number
from field_agent.ledgers.campaign_sheet_template import write_campaign_template
from field_agent.store import Store
from server_stub.cli import cli as server_cli

from .harness import Town, enrolled, sync

KEY = "typhoon-2026-12"


def office(town: Town, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(server_cli, [*args, "--db", town.db.url])
    assert (result.exit_code == 0) == ok, result.output + result.stderr
    return result


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    town = Town(tmp_path / "town").start()
    yield town
    town.stop()


def definition_file(directory: Path, grid_name: str) -> Path:
    """The typhoon template as the office fills it in Excel (the campaign sheet), for one grid."""
    path = directory / "typhoon.xlsx"
    name = "防台风转移（第22号台风）"
    write_campaign_template(path, "typhoon", key=KEY, name=name, starts=date.today(), grids=(grid_name,))
    return path


def elderly(store: Store, household: str, name: str, sequence: int) -> str:
    number = make_id_number("350181", date(1938, 5, 1), sequence, "male")
    values = {"household": household, "name": name, "id_number": number, "residency": "resident"}
    return str(store.put("resident", values)["id"])


def left_out(town: Town) -> list[str]:
    shown = json.loads(office(town, "campaign", "show", KEY, "--json").stdout)
    return [person["name"] for grid in shown["grids"] for person in grid["left_out_people"]]


async def test_an_evacuation_defined_by_the_office_reaches_two_tablets_and_the_office_sees_everyone_reached(
    town: Town, tmp_path: Path
) -> None:
    grid = town.new_grid("东门一网格")
    leader = await enrolled(town, grid, tmp_path, "陈组长")
    worker = await enrolled(town, grid, tmp_path, "王芳")
    home = str(leader.put("household", {"address": "东门社区3栋1单元301", "building": "3栋"})["id"])
    people = [elderly(leader, home, name, n) for n, name in enumerate(["林阿婆", "陈阿公", "郑阿婆"], start=1)]
    await sync(leader)

    created = json.loads(
        office(town, "campaign", "create", "--from", str(definition_file(tmp_path, "东门一网格")), "--json").stdout
    )
    assert created["grids"] == [grid]
    await sync(leader)
    await sync(worker)
    for store in (leader, worker):
        (campaign,) = store.records("campaign")
        assert campaign["fields"]["key"] == KEY and campaign["fields"]["status"] == "active"
    campaign_id = campaign["id"]

    def record(store: Store, target: str, by: str, **values: Any) -> dict[str, Any]:
        base = {"campaign": campaign_id, "target": target, "household": home, "by": by}
        return store.put("campaign_result", {**base, **values})

    # offline: each tablet records what its worker found; a wrong answer is refused before anything is saved
    record(leader, people[0], "陈组长", status="moved", answers={"contacted": True, "moved": True, "shelter": "村委会"})
    with pytest.raises(ValidationError) as refused:
        record(worker, people[1], "王芳", status="moved", answers={"contacted": True})
    assert [error.field for error in refused.value.errors] == ["answers.moved"]
    record(worker, people[1], "王芳", status="stays_safe", reason="已接到外地子女家")
    assert sorted(left_out(town)) == sorted(["林阿婆", "陈阿公", "郑阿婆"])  # nothing synced yet

    await sync(leader)
    await sync(worker)
    assert left_out(town) == ["郑阿婆"]
    summary = json.loads(office(town, "campaign", "list", "--json").stdout)["campaigns"][0]
    assert (summary["targets"], summary["done"], summary["excused"], summary["left_out"]) == (3, 1, 1, 1)

    await sync(worker)
    record(worker, people[2], "王芳", status="moved", answers={"contacted": True, "moved": True})
    await sync(worker)
    assert left_out(town) == []
    summary = json.loads(office(town, "campaign", "list", "--json").stdout)["campaigns"][0]
    assert summary["percent"] == 100.0
    await sync(leader)
    assert len(leader.records("campaign_result")) == 3  # every tablet of the grid sees the whole campaign

    office(town, "campaign", "close", KEY)
    await sync(worker)
    assert worker.records("campaign")[0]["fields"]["status"] == "closed"
