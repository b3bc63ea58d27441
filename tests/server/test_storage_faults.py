"""A real ``field-server serve`` whose disk fills up, whose database turns read-only, or whose key file is
replaced while it runs: each fault gives the tablet a 503 with a clear JSON error, the log one line, an admin
command one ``field-server: …`` line (exit 1, no traceback), and every push acknowledged before it stays readable.

These tests mount a small tmpfs and set the immutable attribute (we run as root); they skip when not permitted.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id

from .harness import Harness, household
from .test_e2e_uvicorn import admin, free_port, wait_until_up

SERVER = [sys.executable, "-c", "from server_stub.cli import main; main()"]
NOTES = "独居老人，每周随访。" * 40  # a record of about 1 KiB


class Tablet:
    """An enrolled tablet speaking HTTP to the real server; remembers what the server acknowledged."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.grid = admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")["grid"]
        code = admin(data_dir, "enroll-code", "--grid", self.grid, "--worker", "王芳", "--role", "worker")["code"]
        node = new_node_id()
        answer = httpx.post(f"{url}/v1/enroll", json={"code": code, "node_id": node}).json()
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {answer['token']}"}, timeout=30)
        self.clock = HybridClock(node)
        self.acknowledged: dict[str, str] = {}  # record id -> address, for every change the server applied
        self.batches = itertools.count(1)

    def batch(self, records: int = 5) -> tuple[str, list[dict[str, Any]]]:
        changes = []
        for _ in range(records):
            address = f"{len(self.acknowledged) + len(changes)}号"
            _, change = local_edit(
                None,
                self.clock,
                record_id=new_id(),
                kind="household",
                grid=self.grid,
                values={"address": address, "notes": NOTES},
            )
            changes.append(change)
        return f"fault-batch-{next(self.batches):06d}", changes

    def push(self, batch_id: str, changes: list[dict[str, Any]]) -> httpx.Response:
        response = self.client.post("/v1/push", json={"batch_id": batch_id, "changes": changes})
        if response.status_code == 200:
            assert [result["status"] for result in response.json()["results"]] == ["applied"] * len(changes)
            for change in changes:
                self.acknowledged[change["record"]] = change["fields"]["address"]["value"]
        return response

    def all_acknowledged_are_readable(self) -> None:
        found: dict[str, str] = {}
        cursor = 0
        while True:
            page = self.client.get("/v1/pull", params={"cursor": cursor, "limit": 500}).json()
            for envelope in page["records"]:
                if envelope["kind"] == "household":
                    found[envelope["id"]] = envelope["fields"]["address"]
            cursor = page["next_cursor"]
            if not page["more"]:
                break
        assert {rid: found.get(rid) for rid in self.acknowledged} == self.acknowledged


class Server:
    """``field-server serve`` with one worker process (so one log), its stderr kept in a file."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._stderr = log.open("w")
        self.process = subprocess.Popen(
            [*SERVER, "--data-dir", str(data_dir), "serve", "--port", str(self.port), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_until_up(self.url)

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()
        return self.log.read_text()


@contextlib.contextmanager
def serving(data_dir: Path, log: Path) -> Iterator[tuple[Server, Tablet]]:
    server = Server(data_dir, log)
    tablet = None
    try:
        tablet = Tablet(server.url, data_dir)
        yield server, tablet
    finally:
        if tablet is not None:
            tablet.client.close()
        if server.process.poll() is None:
            server.stop()


def run_admin(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVER, "--data-dir", str(data_dir), *args], capture_output=True, text=True)


def assert_one_line_failure(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("field-server: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def assert_503(response: httpx.Response, code: str, *words: str) -> str:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert "nothing was written" in error["message"]
    for word in words:
        assert word in error["message"], error["message"]
    assert response.headers.get("retry-after")
    return str(error["message"])


def log_lines_with(log: str, text: str) -> list[str]:
    assert "Traceback" not in log, log
    return [line for line in log.splitlines() if text in line]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no space left."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file, contextlib.suppress(OSError):
        while file.write(b"\0" * 65536):
            pass
    return filler


def test_a_full_disk_refuses_writes_clearly_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    with serving(small_disk, tmp_path / "server.log") as (server, tablet):
        for _ in range(3):
            assert tablet.push(*tablet.batch()).status_code == 200
        filler = fill(small_disk)
        for _ in range(200):  # until the database needs a page it cannot have (the log's free pages run out)
            batch_id, changes = tablet.batch()
            refused = tablet.push(batch_id, changes)
            if refused.status_code != 200:
                break
        message = assert_503(refused, "storage_unavailable", "is full", str(small_disk))
        again = tablet.push(*tablet.batch())  # a second refusal: the same answer, no second log line
        assert_503(again, "storage_unavailable", "is full")
        assert_one_line_failure(
            run_admin(small_disk, "grid", "create", "--town", "玉屏街道", "--name", "二网格"), "is full"
        )
        tablet.all_acknowledged_are_readable()  # reading goes on while the disk is full

        filler.unlink()  # space again: the refused batch, sent again, is applied, and nothing was lost
        assert tablet.push(batch_id, changes).status_code == 200
        tablet.all_acknowledged_are_readable()
        log = server.stop()
    (line,) = log_lines_with(log, message)
    assert line.startswith("ERROR:") and line.endswith(f"field-server: {message}")


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Files given the immutable attribute (root cannot write them either), cleared afterwards."""
    probe = tmp_path / "probe"
    probe.write_text("")
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not permitted here")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    files: list[Path] = []
    yield files
    for file in files:
        subprocess.run(["chattr", "-i", str(file)], check=False)


def set_immutable(files: list[Path], paths: list[Path], on: bool) -> None:
    for path in paths:
        subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)
        if on:
            files.append(path)


def test_a_database_made_read_only_refuses_writes_clearly_and_loses_nothing(
    tmp_path: Path, immutable: list[Path]
) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir, tmp_path / "server.log") as (server, tablet):
        assert tablet.push(*tablet.batch()).status_code == 200
        database = data_dir / "server.db"
        # the database and its write-ahead log (the -shm index is memory-mapped: SQLite keeps it writable)
        files = [database, database.with_name("server.db-wal")]
        set_immutable(immutable, files, on=True)
        batch_id, changes = tablet.batch()
        message = assert_503(tablet.push(batch_id, changes), "storage_unavailable", "read-only", str(database))
        assert_503(tablet.push(batch_id, changes), "storage_unavailable", "read-only")
        assert_one_line_failure(
            run_admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "二网格"), "read-only"
        )
        tablet.all_acknowledged_are_readable()

        set_immutable(immutable, files, on=False)
        assert tablet.push(batch_id, changes).status_code == 200
        tablet.all_acknowledged_are_readable()
        log = server.stop()
    assert len(log_lines_with(log, message)) == 1, log


def test_a_server_on_a_read_only_mount_says_so_in_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")
    mount = tmp_path / "ro-view"
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(data_dir), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("bind mounts are not permitted here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        serve = subprocess.run(
            [*SERVER, "--data-dir", str(mount), "serve", "--port", str(free_port()), "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert_one_line_failure(serve, "is read-only", "nothing was written")
        listed = run_admin(mount, "grid", "create", "--town", "玉屏街道", "--name", "二网格")
        assert_one_line_failure(listed, "is read-only")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    assert len(admin(data_dir, "grid", "list")["grids"]) == 1  # the database itself is untouched


def test_a_key_file_replaced_under_a_running_server_stops_writes_until_it_is_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir, tmp_path / "server.log") as (server, tablet):
        assert tablet.push(*tablet.batch()).status_code == 200
        key = data_dir / "server.db.key"
        kept = tmp_path / "kept.key"
        shutil.copy2(key, kept)
        swapped = tmp_path / "swapped.key"
        swapped.write_bytes(secrets.token_bytes(32))
        os.replace(swapped, key)  # someone restores the wrong key file while the server runs

        batch_id, changes = tablet.batch()
        message = assert_503(tablet.push(batch_id, changes), "key_mismatch", str(key), "no longer holds the key")
        assert_503(tablet.push(batch_id, changes), "key_mismatch")
        tablet.all_acknowledged_are_readable()  # reading goes on with the key the database is sealed with
        assert_one_line_failure(
            run_admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "二网格"), "does not open"
        )
        key.unlink()  # removed altogether: still no write under a key that exists nowhere else
        assert_503(tablet.push(batch_id, changes), "key_mismatch")

        shutil.copy2(kept, key)  # the right key is back: writes go on, and nothing was lost or mixed
        assert tablet.push(batch_id, changes).status_code == 200
        tablet.all_acknowledged_are_readable()
        log = server.stop()
    assert len(log_lines_with(log, message)) == 1, log
    checked = admin(data_dir, "key", "check")  # every record opens with the one key: none sealed with another
    assert checked["opens"] is True and checked["records"] == 1 + len(tablet.acknowledged)


@pytest.mark.postgres
async def test_a_postgresql_database_turned_read_only_refuses_writes_clearly(pg_url: str) -> None:
    server = Harness(pg_url)
    try:
        tablet = await server.tablet(server.grid())
        first = [tablet.edit(values=household("1栋101"))]
        await tablet.push_ok(first)
        for connection in server.db._all:  # type: ignore[attr-defined]  # as on a standby, or an admin's switch
            connection.execute("SET default_transaction_read_only = on")
        batch = [tablet.edit(values=household("2栋202"))]
        response = await tablet.push(batch, batch_id="read-only-batch-01")
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "storage_unavailable" and "is read-only: nothing was written" in error["message"]
        assert "Traceback" not in error["message"] and "\n" not in error["message"]
        assert server.db.get_record(first[0]["record"])["fields"]["address"] == "1栋101"

        for connection in server.db._all:  # type: ignore[attr-defined]
            connection.execute("SET default_transaction_read_only = off")
        await tablet.push_ok(batch, batch_id="read-only-batch-01")
        assert server.db.get_record(batch[0]["record"])["fields"]["address"] == "2栋202"
    finally:
        await server.close()


def test_a_backup_onto_a_full_disk_fails_in_one_line_and_leaves_nothing(small_disk: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")
    fill(small_disk)
    target = small_disk / "server-backup.db"
    assert_one_line_failure(run_admin(data_dir, "backup", str(target)), "could not be written", "disk is full")
    assert not target.exists() and not Path(f"{target}-journal").exists()
    assert len(admin(data_dir, "grid", "list")["grids"]) == 1  # the database itself is untouched
