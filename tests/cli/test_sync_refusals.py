"""``field-agent sync --json`` lists every change the town server refused: whose record (by name, not id), which
fields, and why; against a real town server on 127.0.0.1, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from e2e.harness import Town

from field_agent.cli.main import cli

PASSPHRASE = "correct horse battery staple"


def fa(store: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    (tmp_path / "town").mkdir()
    server = Town(tmp_path / "town").start()
    yield server
    server.stop()


def test_sync_json_names_each_refused_change_its_fields_and_the_reason(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid()
    store = tmp_path / "tablet"
    assert fa(store, "init").exit_code == 0
    assert fa(store, "enroll", town.url, town.code(grid, worker="王丽", role="worker")).exit_code == 0
    task = {"title": "张贴防疫海报", "task_kind": "publicity", "role": "publicity", "status": "open"}
    put = fa(store, "records", "put", "--kind", "task", "--json", json.dumps(task, ensure_ascii=False))
    assert put.exit_code == 0, put.output
    task_id = put.stdout.strip()
    first = fa(store, "sync", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["refusals"] == []
    edit = {"id": task_id, "title": "改过的标题"}  # a worker's tablet may raise a task, not retitle it
    assert fa(store, "records", "put", "--kind", "task", "--json", json.dumps(edit, ensure_ascii=False)).exit_code == 0

    summary = fa(store, "sync", "--json")

    assert summary.exit_code == 0, summary.output
    answer = json.loads(summary.stdout)
    assert answer["refused"] == 1
    [refusal] = answer["refusals"]
    assert (refusal["record"], refusal["kind"], refusal["name"]) == (task_id, "task", "张贴防疫海报")
    assert refusal["fields"] == ["title"]
    assert refusal["code"] == "leader_only" and "leader" in refusal["reason"]
    plain = fa(store, "sync")
    assert plain.exit_code == 0, plain.output
    assert "task 张贴防疫海报 (title): " in plain.output and task_id not in plain.output
