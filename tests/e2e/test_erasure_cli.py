"""What a grid worker reads from ``field-agent sync`` when the town office has purged data the tablet holds,
including an edit the tablet had not sent yet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from field_agent.cli.main import cli
from field_agent.store import Store
from server_stub.cli import cli as server_cli

from .harness import PASSPHRASE, Town


def run(store: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def office(town: Town, *args: str) -> Result:
    result = CliRunner().invoke(server_cli, [*args, "--db", town.db.url])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def own_town(tmp_path: Path) -> Iterator[Town]:
    town = Town(tmp_path / "town").start()  # its own: the purge below erases across the whole database
    yield town
    town.stop()


def test_sync_says_what_the_retention_rule_erased_and_which_unsent_edits_went_with_it(
    own_town: Town, tmp_path: Path
) -> None:
    grid = own_town.new_grid()
    tablet = tmp_path / "tablet"
    Store.create(tablet, PASSPHRASE).close()
    assert run(tablet, "enroll", own_town.url, own_town.code(grid, worker="王丽")).exit_code == 0
    with Store.open(tablet, PASSPHRASE) as store:
        followup = store.put(
            "followup",
            {"resident": "0193a1b2-0000-7000-8000-000000000009", "date": "2026-10-25", "temperature": 38.2,
             "contact_made": True, "by": "王丽"},
        )["id"]  # fmt: skip
    assert orjson.loads(run(tablet, "sync", "--json").stdout)["pushed"] == 1
    with Store.open(tablet, PASSPHRASE) as store:  # edited again offline, not yet sent
        store.put("followup", {"temperature": 37.1}, record_id=followup)

    office(own_town, "retention", "set", "followup", "0")
    assert (
        "would erase: sampling 0, followup 1, visit_health 0, campaign_result 0"
        in office(own_town, "purge", "--dry-run").output
    )
    assert "erased: sampling 0, followup 1, visit_health 0, campaign_result 0" in office(own_town, "purge").output

    synced = run(tablet, "sync")
    assert synced.exit_code == 0, synced.output
    assert "1 records erased under the town's retention rule (已按规定删除) (with 1 unsent changes to them)" in (
        synced.output
    )
    status = orjson.loads(run(tablet, "status", "--json").stdout)
    assert status["pending_changes"] == 0 and status["refused_changes"] == 0 and "followup" not in status["counts"]
    again = orjson.loads(run(tablet, "sync", "--json").stdout)
    assert (again["erased"], again["erased_unsent"], again["error"]) == (0, 0, None)
