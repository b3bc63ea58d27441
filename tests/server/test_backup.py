"""``field-server backup``: a consistent, sealed copy of a live SQLite database, checked, never overwriting."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from field_agent.domain.envelope import new_envelope
from server_stub.cli import cli
from server_stub.db import open_database
from server_stub.records import create_grid
from server_stub.sealing import key_path

NAME = "欧阳秀兰"


def backup(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["backup", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_backup_taken_while_pushes_commit_is_consistent_sealed_and_restorable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = open_database(url)
    grid = create_grid(db, town="玉屏街道", name="一网格")
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            with db.transaction(grid) as tx:
                envelopes = []
                for _ in range(20):
                    envelope = new_envelope(f"h-{n:06d}", "household", grid)
                    envelope["fields"].update(head=NAME, address=f"{n}号")
                    envelopes.append(envelope)
                    n += 1
                tx.put_records(grid, envelopes)
            written.append(n)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        code, out, err = backup("--db", url, "--json", str(tmp_path / "copy.db"))
    finally:
        stop.set()
        writer.join()
    db.close()
    assert code == 0, err
    report = json.loads(out)
    copy = tmp_path / "copy.db"
    assert report["integrity"] == "ok" and report["key_file"] == str(key_path(url))
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert NAME.encode() not in copy.read_bytes()  # sealed: the key is not in it
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("copy")) == ["copy.db"]

    # restore elsewhere: the copy and the key file, nothing else
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "server.db")
    shutil.copy(key_path(url), restored / "server.db.key")
    with open_database(f"sqlite:///{restored / 'server.db'}") as again:
        households = [e for e in again.iter_records(grid) if e["kind"] == "household"]
    # a snapshot: whole batches only (20 per transaction), in order, none torn
    assert len(households) % 20 == 0 and report["records"] == len(households) + 1
    assert [e["id"] for e in households] == [f"h-{n:06d}" for n in range(len(households))]
    assert all(e["fields"]["head"] == NAME for e in households)


def test_a_backup_never_overwrites_and_postgres_is_sent_to_pg_dump(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    open_database(url).close()
    existing = tmp_path / "old-backup.db"
    existing.write_bytes(b"yesterday")
    code, _, err = backup("--db", url, str(existing))
    assert code == 1 and "already exists" in err and existing.read_bytes() == b"yesterday"
    code, _, err = backup("--db", "postgresql://postgres@127.0.0.1:5432/test", str(tmp_path / "pg.db"))
    assert code == 1 and "pg_dump" in err and err.startswith("field-server: ")
    assert not (tmp_path / "pg.db").exists()


def test_a_copy_the_key_does_not_open_is_removed_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with open_database(url) as db:
        create_grid(db, town="玉屏街道", name="一网格")
    from server_stub.db.sqlite import SqliteDatabase

    def backup_with_a_bad_page(self: SqliteDatabase, target: Path) -> None:
        shutil.copy(self.path, target)
        with open(target, "r+b") as file:  # spoil the sealed check value and records in the copy
            data = file.read().replace(b"fa1:", b"fa9:")
            file.seek(0)
            file.write(data)

    monkeypatch.setattr(SqliteDatabase, "backup_to", backup_with_a_bad_page)
    code, _, err = backup("--db", url, str(tmp_path / "copy.db"))
    assert code == 1 and "did not check out, so it was removed" in err and "unsealed" in err
    assert not (tmp_path / "copy.db").exists()


def test_key_check_tells_whether_a_kept_copy_of_the_key_opens_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with open_database(url) as db:
        create_grid(db, town="玉屏街道", name="一网格")
    kept = tmp_path / "safe" / "server.db.key"
    kept.parent.mkdir()
    shutil.copy(key_path(url), kept)
    runner = CliRunner()
    own = runner.invoke(cli, ["key", "check", "--db", url])
    assert own.exit_code == 0 and "all 1 records checked" in own.stdout
    copy = runner.invoke(cli, ["key", "check", "--db", url, "--json", str(kept)])
    assert copy.exit_code == 0 and json.loads(copy.stdout) == {
        "key_file": str(kept), "db": url, "records": 1, "opens": True
    }  # fmt: skip
    kept.write_bytes(bytes(32))  # a different key
    wrong = runner.invoke(cli, ["key", "check", "--db", url, str(kept)])
    assert wrong.exit_code == 1 and "does not open the database" in wrong.stderr
