"""The store commands as a script uses them: exit codes, one-line errors, JSON in and out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def run(tmp_path: Path):
    store = tmp_path / "store"

    def invoke(*args: str, input: str | None = None, passphrase: str = PASSPHRASE, **env: str):
        environment = {"FIELD_AGENT_PASSPHRASE": passphrase, **env}
        return CliRunner().invoke(cli, ["--store", str(store), *args], input=input, env=environment)

    invoke.store = store  # type: ignore[attr-defined]
    return invoke


@pytest.fixture
def initialised(run):
    result = run("init", "--grid", "grid-1")
    assert result.exit_code == 0, result.output
    return run


def test_init_refuses_weak_passphrase_and_existing_store(run) -> None:
    weak = run("init", passphrase="123456")
    assert weak.exit_code == 1
    assert "PIN" in weak.stderr and weak.stderr.count("\n") == 1
    assert run("init").exit_code == 0
    again = run("init")
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_put_get_list_delete(initialised) -> None:
    run = initialised
    put = run("records", "put", "--kind", "household", input='{"address": "幸福路 3栋 301", "head": "张三"}')
    assert put.exit_code == 0, put.stderr
    record_id = put.stdout.strip()
    got = json.loads(run("records", "get", record_id, "--json").stdout)
    assert got == {"id": record_id, "kind": "household", "grid": "grid-1", "address": "幸福路 3栋 301", "head": "张三"}
    update = run("records", "put", "--kind", "household", "--json", json.dumps({"id": record_id, "head": "李四"}))
    assert update.stdout.strip() == record_id
    envelope = json.loads(run("records", "get", record_id, "--envelope").stdout)
    assert envelope["fields"] == {"address": "幸福路 3栋 301", "head": "李四"}
    stamp = envelope["stamps"]["address"]
    run("records", "put", "--kind", "household", "--json", json.dumps({"id": record_id, "address": "幸福路 3栋 301"}))
    assert json.loads(run("records", "get", record_id, "--envelope").stdout)["stamps"]["address"] == stamp
    listed = json.loads(run("records", "list", "--kind", "household", "--json").stdout)
    assert [item["id"] for item in listed] == [record_id]
    assert run("records", "delete", record_id).exit_code == 0
    assert json.loads(run("records", "list", "--kind", "household", "--json").stdout) == []
    assert json.loads(run("records", "get", record_id, "--json").stdout)["_deleted"] is True


def test_status_json(initialised) -> None:
    run = initialised
    run("records", "put", "--kind", "household", "--json", '{"address": "a"}')
    run("records", "put", "--kind", "household", "--json", '{"address": "b"}')
    status = json.loads(run("status", "--json").stdout)
    assert status["counts"] == {"household": 2}
    assert status["pending_changes"] == 2
    assert status["open_conflicts"] == 0 and status["refused_changes"] == 0
    assert status["last_sync"] is None and status["grid"] == "grid-1"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["records", "put", "--kind", "household", "--json", "{not json"], None, "not valid JSON"),
        (["records", "put", "--kind", "household"], "[1, 2]", "must be a JSON object"),
        (["records", "put", "--kind", "household"], "", "no record given"),
        (["records", "put", "--kind", "household", "--json", "{}"], None, "address: is required"),
        (["records", "put", "--kind", "resident", "--json", '{"kind": "household"}'], None, "--kind is"),
        (["records", "get", "missing-id"], None, "no record with id missing-id"),
        (["records", "delete", "missing-id"], None, "no record with id missing-id"),
    ],
)
def test_bad_input_gets_one_line_and_nonzero_exit(initialised, args, stdin, message) -> None:
    result = initialised(*args, input=stdin)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_wrong_passphrase_and_missing_store_exit_codes(initialised, tmp_path: Path) -> None:
    wrong = initialised("status", passphrase="not the right passphrase")
    assert wrong.exit_code == 3 and "wrong passphrase" in wrong.stderr
    missing = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "none"), "status"], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    )
    assert missing.exit_code == 1 and "field-agent init" in missing.stderr


def test_verify_and_salvage(initialised, tmp_path: Path) -> None:
    run = initialised
    run("records", "put", "--kind", "household", "--json", '{"address": "a"}')
    ok = run("verify", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    log = run.store / "store.log"
    data = bytearray(log.read_bytes())
    data[-3] ^= 0xFF
    log.write_bytes(bytes(data))
    damaged = run("verify")
    assert damaged.exit_code == 5 and "DAMAGED" in damaged.stdout and "store.log at byte" in damaged.stdout
    status = run("status")
    assert status.exit_code == 5 and "--salvage" in status.stderr
    rescued = run("verify", "--salvage", str(tmp_path / "rescued"))
    assert rescued.exit_code == 0
    fresh = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "rescued"), "status", "--json"], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    )
    assert json.loads(fresh.stdout)["counts"] == {}  # the only record lived in the damaged frame


def test_passwd(initialised) -> None:
    run = initialised
    weak = run("passwd", FIELD_AGENT_NEW_PASSPHRASE="short")
    assert weak.exit_code == 1 and "太短" in weak.stderr
    new = "a brand new long passphrase"
    assert run("passwd", FIELD_AGENT_NEW_PASSPHRASE=new).exit_code == 0
    assert run("status", passphrase=PASSPHRASE).exit_code == 3
    assert run("status", passphrase=new).exit_code == 0


def test_second_writer_is_refused(initialised) -> None:
    from field_agent.store import Store

    with Store.open(initialised.store, PASSPHRASE):
        locked = initialised("status")
    assert locked.exit_code == 4 and "open in another program" in locked.stderr


def test_store_commands_do_not_import_textual(initialised) -> None:
    code = (
        "import sys\nfrom field_agent.cli.main import main\nsys.argv = ['field-agent', '--store', sys.argv[1], "
        "'status', '--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\nassert 'textual' not in sys.modules, "
        "'textual loaded'\n"
    )
    env = {**os.environ, "FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    result = subprocess.run(
        [sys.executable, "-c", code, str(initialised.store)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grid"] == "grid-1"


def test_a_clock_set_back_from_a_wrong_date_is_noted_on_stderr(initialised) -> None:
    from field_agent.domain.hlc import DEFAULT_MAX_FUTURE_MS, HybridClock, wall_ms
    from field_agent.store import Store

    with Store.open(initialised.store, PASSPHRASE) as store:  # the tablet's date was 8 days ahead when it saved
        store.clock = HybridClock(store.node_id, now_ms=lambda: wall_ms() + DEFAULT_MAX_FUTURE_MS + 86_400_000)
        store.put("household", {"address": "幸福路 1 号"})
    listed = initialised("records", "list", "--kind", "household", "--json")
    assert listed.exit_code == 0, listed.output
    assert "clock was" in listed.stderr and "current date" in listed.stderr
    assert len(json.loads(listed.stdout)) == 1


def test_a_household_with_residents_is_not_deleted_and_the_worker_is_told_why_in_chinese(initialised) -> None:
    from store.conftest import resident_values

    run = initialised
    household = run("records", "put", "--kind", "household", input='{"address": "幸福路 5栋 101"}').stdout.strip()
    resident = run("records", "put", "--kind", "resident", "--json", json.dumps(resident_values(household, "王芳")))
    assert resident.exit_code == 0, resident.stderr
    refused = run("records", "delete", household, LANG="C")
    assert refused.exit_code == 1
    assert refused.stderr == "field-agent: 此户还有 1 位居民，不能删除：请先把他们迁到其他户或删除后再删此户。\n"
    assert "王芳" not in refused.stderr
    assert "_deleted" not in json.loads(run("records", "get", household, "--json").stdout)
    english = run("--lang", "en", "records", "delete", household)
    assert english.exit_code == 1 and "still has 1 resident(s)" in english.stderr
    assert run("records", "delete", resident.stdout.strip()).exit_code == 0
    assert run("records", "delete", household).exit_code == 0
    assert run("records", "list", "--kind", "household").stdout == ""
