"""``field-server`` admin commands as the town office's IT staff script them: plain output, --json, exit codes."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from field_agent.domain.idnumber import make_id_number
from field_agent.protocol.wire import EnrollRequest
from server_stub.db import open_database


def test_grid_code_and_device_commands(run, tmp_path: Path) -> None:
    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    assert len(grid) == 36
    listed = json.loads(run("grid", "list", "--json").stdout)["grids"]
    assert listed[0]["id"] == grid and listed[0]["community"] == "东门一网格" and listed[0]["mode"] == "normal"

    plain = run("enroll-code", "--grid", grid, "--worker", "王芳", "--role", "worker").stdout.strip()
    assert len(plain) == 19 and ":" not in plain
    issued = json.loads(
        run("enroll-code", "--grid", grid, "--worker", "陈", "--role", "leader", "--ttl", "30m", "--json").stdout
    )
    assert issued["role"] == "leader" and issued["fingerprint"] is None
    expires = datetime.fromisoformat(issued["expires"])  # in the town's time zone, with its offset
    assert issued["expires"].endswith("+08:00") and expires.timestamp() * 1000 == issued["expires_ms"] // 1000 * 1000

    pinned = run("enroll-code", "--grid", grid, "--worker", "李娜", "--role", "worker", "--tls").stdout.strip()
    secret, fingerprint = pinned.split(":")
    assert len(secret) == 19
    assert len(fingerprint) == 64 and (tmp_path / "server-cert.pem").exists()
    assert (tmp_path / "server-key.pem").stat().st_mode & 0o077 == 0
    again = run("enroll-code", "--grid", grid, "--worker", "李娜", "--role", "worker").stdout.strip()
    assert again.endswith(f":{fingerprint}")  # the certificate exists now, so codes carry it by default

    assert json.loads(run("device", "list", "--json").stdout) == {"devices": []}
    failed = run("device", "revoke", "no-such-device", ok=False)
    assert failed.exit_code == 1 and failed.stderr.startswith("field-server: no device")
    assert failed.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("enroll-code", "--grid", "nope", "--worker", "王芳", "--role", "worker"), "no grid 'nope'"),
        (("enroll-code", "--grid", "nope", "--worker", "王芳", "--role", "worker", "--ttl", "soon"), "ttl 'soon'"),
        (("grid", "list", "--db", "mysql://x"), "unsupported database URL"),
        (("serve", "--max-future", "soon"), "--max-future 'soon' is not a duration"),
        (("serve", "--keep-answers", "forever"), "--keep-answers 'forever' is not a duration"),
        (("grid", "list", "--db", "postgresql://nobody@127.0.0.1:1/none"), "cannot use the PostgreSQL database"),
    ],
)
def test_errors_are_one_line_and_exit_1(run, args: tuple[str, ...], message: str) -> None:
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1


def _roster(path: Path, bad: bool) -> Path:
    rows = ["姓名,身份证号,楼栋,单元,房号,联系电话"]
    for n in range(4):
        number = make_id_number("350181", date(1950 + n, 3, 1), n, "female")
        rows.append(f"居民{n},{number},{n + 1},1,10{n},1381234567{n}")
    if bad:
        rows.append("坏行,350181195003011234,9,1,101,13812345670")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_roster_import_is_all_or_nothing_unless_skip_invalid(run, tmp_path: Path) -> None:
    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    bad = _roster(tmp_path / "bad.csv", bad=True)
    refused = run("roster", "import", str(bad), "--grid", grid, "--json", ok=False)
    report = json.loads(refused.stdout)
    assert report["imported"] is False and report["errors"][0]["line"] == 6
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        assert db.count_records(grid) == 1  # only the grid: nothing of the roster was written

    skipped = json.loads(run("roster", "import", str(bad), "--grid", grid, "--skip-invalid", "--json").stdout)
    assert skipped["imported"] is True and skipped["summary"]["residents_created"] == 4
    again = json.loads(
        run("roster", "import", str(_roster(tmp_path / "good.csv", bad=False)), "--grid", grid, "--json").stdout
    )
    assert again["summary"]["residents_created"] == 0 and again["summary"]["residents_unchanged"] == 4
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        kinds = sorted(envelope["kind"] for envelope in db.iter_records(grid))
        assert kinds == ["grid"] + ["household"] * 4 + ["resident"] * 4
        node = next(db.iter_records(grid))["stamps"]["town"][-12:]
        assert all(stamp[-12:] == node for e in db.iter_records(grid) for stamp in e["stamps"].values())


def test_seed_demo_prints_its_grids_and_is_reproducible(run, tmp_path: Path) -> None:
    grids = run("seed-demo", "--grids", "2", "--households", "5", "--seed", "7").stdout.split()
    assert len(grids) == 2
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        listed = {row["id"]: row for row in db.list_grids()}
        assert set(listed) == set(grids) and all(listed[g]["records"] > 5 for g in grids)
    other = run(
        "seed-demo",
        "--grids",
        "2",
        "--households",
        "5",
        "--seed",
        "7",
        "--db",
        f"sqlite:///{tmp_path / 'other.db'}",
        "--json",
    ).stdout
    assert json.loads(other)["grids"] == grids


def test_office_commands_use_the_same_data_dir(run, tmp_path: Path) -> None:
    token = json.loads(run("office", "token", "--json").stdout)["token"]
    assert token
    assert (tmp_path / "server.db").exists()  # --data-dir reached the office module's own database opening


def test_device_list_shows_control_characters_and_never_sends_them(run, tmp_path: Path) -> None:
    """A device named before names were checked, or a reason pasted with an escape, cannot clear the office's
    terminal or retitle it: device list shows the escapes as text."""
    from server_stub.enrolment import enroll, issue_code

    grid = run("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        code = issue_code(db, grid, "王芳", "worker", 3_600_000)["code"]
        request = EnrollRequest.model_construct(code=code, node_id="0123456789ab", device_name="平板\x1b]0;pwned\x07")
        device = enroll(db, request).device_id
    run("device", "revoke", device, "--reason", "丢失\x1b[2J")
    listed = run("device", "list").stdout
    assert "\x1b" not in listed and "\x07" not in listed
    assert "平板\\x1b]0;pwned\\x07" in listed and "丢失\\x1b[2J" in listed
