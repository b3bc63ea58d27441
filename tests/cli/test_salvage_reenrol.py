"""A salvaged store whose enrolment was lost with the damaged frame is enrolled again and syncs, losing nothing:
against a real town server on 127.0.0.1, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from e2e.harness import Town

from field_agent.cli.main import cli
from field_agent.store import Store
from field_agent.store.log import FILE_HEADER_SIZE
from server_stub.enrolment import revoke_device

PASSPHRASE = "correct horse battery staple"


def fa(store: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    (tmp_path / "town").mkdir()
    server = Town(tmp_path / "town").start()
    yield server
    server.stop()


def _put(store: Path, address: str) -> str:
    result = fa(store, "records", "put", "--kind", "household", "--json", json.dumps({"address": address}))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_a_salvaged_store_is_enrolled_again_and_its_unsent_changes_reach_the_server(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid()
    store = tmp_path / "tablet"
    assert fa(store, "init").exit_code == 0
    enrolled = fa(store, "enroll", town.url, town.code(grid, worker="王丽"), "--name", "tablet")
    assert enrolled.exit_code == 0, enrolled.output
    synced_ids = [_put(store, f"幸福路 {n} 号") for n in range(3)]
    assert fa(store, "sync", "--json").exit_code == 0
    with Store.open(store, PASSPHRASE) as opened:
        node, device = opened.node_id, opened.meta_get("device_id")
        opened.compact()  # identity, enrolment and the synced records now live in frame 0 only
    unsent_ids = [_put(store, f"和平路 {n} 号") for n in range(2)]  # saved after it, never sent

    log = store / "store.log"
    data = bytearray(log.read_bytes())
    data[FILE_HEADER_SIZE + 40] ^= 0x01
    log.write_bytes(bytes(data))
    out = tmp_path / "rescued"
    rescued = fa(store, "verify", "--salvage", str(out))
    assert rescued.exit_code == 0, rescued.output
    assert f"recovered ({node})" in rescued.stdout and "enrol it again" in rescued.stdout

    not_yet = fa(out, "sync", "--json")
    assert not_yet.exit_code != 0 and "enrol" in not_yet.output
    refused = fa(out, "enroll", town.url, town.code(grid, worker="王丽"), "--name", "tablet")
    assert refused.exit_code != 0 and "revoke it first" in refused.output  # the office still lists the old one
    revoke_device(town.db, device, "tablet store damaged; salvaged")
    again = fa(out, "enroll", town.url, town.code(grid, worker="王丽"), "--name", "tablet (salvaged)")
    assert again.exit_code == 0, again.output

    summary = fa(out, "sync", "--json")
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)["pushed"] == 2
    households = {rid for rid, record in town.records(grid).items() if record["kind"] == "household"}
    assert households == set(synced_ids + unsent_ids)  # the unsent changes reached the server
    listed = fa(out, "records", "list", "--kind", "household", "--json")
    assert sorted(item["id"] for item in json.loads(listed.stdout)) == sorted(synced_ids + unsent_ids)
