"""The sync commands as a script uses them: enroll, sync --json, conflicts list --json, conflicts resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from field_agent.cli.main import cli
from field_agent.store import Store

from .harness import PASSPHRASE, Town


def run(store: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def run_json(store: Path, *args: str) -> Any:
    result = run(store, *args)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def edit(path: Path, record: str | None, values: dict[str, Any]) -> str:
    with Store.open(path, PASSPHRASE) as store:
        return str(store.put("household", values, record_id=record)["id"])


@pytest.fixture
def two_tablets(town: Town, tmp_path: Path) -> tuple[Path, Path]:
    grid = town.new_grid()
    paths = (tmp_path / "a", tmp_path / "b")
    for path in paths:
        Store.create(path, PASSPHRASE).close()
        result = run(path, "enroll", town.url, town.code(grid, worker="王丽"), "--name", path.name)
        assert result.exit_code == 0, result.output
        assert "Enrolled as 王丽 (worker)" in result.output
    return paths


def test_sync_json_and_conflict_resolution_from_the_command_line(two_tablets: tuple[Path, Path]) -> None:
    a, b = two_tablets
    record = edit(a, None, {"address": "7栋3单元302", "phone": "13800138000"})
    summary = run_json(a, "sync", "--json")
    assert (summary["pushed"], summary["conflicts"], summary["refused"], summary["error"]) == (1, 0, 0, None)
    assert summary["duration_s"] >= 0
    assert run_json(b, "sync", "--json")["pulled"] >= 1
    edit(a, record, {"phone": "13800138001"})
    edit(b, record, {"phone": "13800138002"})
    run_json(a, "sync", "--json")
    assert run_json(b, "sync", "--json")["conflicts"] == 1
    run_json(a, "sync", "--json")

    [conflict] = run_json(a, "conflicts", "list", "--json")
    assert conflict["record"] == record and conflict["field"] == "phone" and conflict["type"] == "value"
    assert {conflict["winner"]["value"], conflict["loser"]["value"]} == {"*******8001", "*******8002"}  # masked
    refused = run(a, "conflicts", "list", "--json", "--unmasked")
    assert refused.exit_code == 1 and "only the grid leader may print full" in refused.output
    listed = run(b, "conflicts", "list")
    assert listed.exit_code == 0 and conflict["cid"] in listed.output and "(this device)" in listed.output

    resolved = run(a, "conflicts", "resolve", record, conflict["cid"], "--value", '"13900139000"')
    assert resolved.exit_code == 0, resolved.output
    for path in (a, b, a):
        run_json(path, "sync", "--json")
    assert run_json(b, "conflicts", "list", "--json") == []
    with Store.open(b, PASSPHRASE) as store:
        assert store.get(record)["fields"]["phone"] == "13900139000"


def test_bad_input_gets_a_clear_message_and_a_nonzero_exit(two_tablets: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = two_tablets
    both = run(a, "conflicts", "resolve", "r1", "c1", "--mine", "--value", "1")
    assert both.exit_code == 2 and "exactly one of" in both.output
    not_json = run(a, "conflicts", "resolve", "r1", "c1", "--value", "{oops")
    assert not_json.exit_code == 2 and "must be JSON" in not_json.output
    unknown = run(a, "conflicts", "resolve", "r1", "c1", "--mine")
    assert unknown.exit_code == 1 and "cannot resolve: no record with id r1" in unknown.output
    missing = run(tmp_path / "nowhere", "sync")
    assert missing.exit_code == 1 and "field-agent init" in missing.output


def test_an_unreachable_server_exits_3_and_keeps_the_changes(town: Town, tmp_path: Path) -> None:
    path = tmp_path / "t"
    Store.create(path, PASSPHRASE).close()
    assert run(path, "enroll", town.url, town.code(town.new_grid())).exit_code == 0
    edit(path, None, {"address": "1号"})
    with Store.open(path, PASSPHRASE) as store:
        store.meta_set("server_url", "http://127.0.0.1:9")  # discard port: nothing listens
    result = run(path, "sync")
    assert result.exit_code == 3
    assert "the town server could not be reached" in result.output
    with Store.open(path, PASSPHRASE) as store:
        assert store.pending_count() == 1


def test_a_revoked_tablet_is_told_and_exits_4(town: Town, tmp_path: Path) -> None:
    from server_stub.enrolment import revoke_device

    path = tmp_path / "t"
    Store.create(path, PASSPHRASE).close()
    assert run(path, "enroll", town.url, town.code(town.new_grid())).exit_code == 0
    with Store.open(path, PASSPHRASE) as store:
        device_id = store.meta_get("device_id")
    revoke_device(town.db, device_id)
    result = run(path, "sync", "--json")
    assert result.exit_code == 4
    assert orjson.loads(result.stdout)["error_kind"] == "auth"
    assert "revoked" in orjson.loads(result.stdout)["error"]


def test_a_temporary_members_tablet_is_told_when_its_last_day_has_passed(town: Town, tmp_path: Path) -> None:
    """A volunteer's tablet syncs through their last day; after it, sync stops with ``device_expired`` and the
    server's words giving the date (Chinese and English), exit 4, and nothing on the tablet is lost."""
    from datetime import timedelta

    from server_stub.enrolment import issue_code
    from server_stub.town_time import town_today

    grid = town.new_grid()
    last = (town_today() + timedelta(days=7)).isoformat()
    code = issue_code(town.db, grid, "Zhao", "volunteer", 3_600_000, until=last)["code"]
    path = tmp_path / "t"
    Store.create(path, PASSPHRASE).close()
    enrolled = run(path, "enroll", town.url, code)
    assert enrolled.exit_code == 0, enrolled.output
    assert f"Enrolled as Zhao (volunteer, until {last})" in enrolled.output
    assert run_json(path, "sync", "--json")["error"] is None
    with Store.open(path, PASSPHRASE) as store:
        device_id, until = store.meta_get("device_id"), store.meta_get("until")
    assert until == last
    ended = (town_today() - timedelta(days=1)).isoformat()
    with town.db.transaction() as tx:
        tx.set_device_ends(device_id, ended)
    edit(path, None, {"address": "7栋3单元302"})  # (a volunteer may not create households: it waits unsent)
    result = run(path, "sync", "--json")
    assert result.exit_code == 4
    answer = orjson.loads(result.stdout)
    assert answer["error_kind"] == "device_expired"
    assert (
        ended in answer["error"]
        and "临时成员期限" in answer["error"]
        and "records stay with the grid" in answer["error"]
    )
    with Store.open(path, PASSPHRASE) as store:
        assert store.pending_count() == 1
