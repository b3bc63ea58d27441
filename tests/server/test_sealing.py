"""Residents' records are sealed at rest in the server database (SQLite and PostgreSQL), with a key kept apart."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import orjson
import psycopg
import pytest

from server_stub.db import open_database
from server_stub.db.sql import SEAL_CHECK_KEY
from server_stub.errors import DatabaseError
from server_stub.records import create_grid
from server_stub.sealing import KEY_FILE_ENV, PREFIX, Sealer, SealError, key_path

from .harness import Harness, household

NAME = "欧阳秀兰"
ID_NUMBER = "350181195003011236"
PHONE = "13959112345"


async def push_a_resident(server: Harness) -> str:
    tablet = await server.tablet(server.grid())
    change = tablet.edit(kind="household", values=household("7栋707", head=NAME, phone=PHONE, notes=ID_NUMBER))
    await tablet.push_ok([change])
    return str(change["record"])


def raw_bodies(url: str) -> list[str]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as connection:
            return [body for (body,) in connection.execute("SELECT body FROM records")]
    conninfo, schema = url.split("?schema=")
    with psycopg.connect(conninfo) as connection:
        return [body for (body,) in connection.execute(f'SELECT body FROM "{schema}".records')]


async def test_no_personal_data_is_stored_in_plaintext(db_url: str) -> None:
    server = Harness(db_url)
    try:
        record_id = await push_a_resident(server)
        assert server.db.get_record(record_id)["fields"]["head"] == NAME  # the server reads it back
        pulled = (await server.clients[-1].get("/v1/pull")).json()["records"]
        assert any(envelope["fields"].get("head") == NAME for envelope in pulled)
    finally:
        await server.close()
    bodies = raw_bodies(db_url)
    assert bodies and all(body.startswith(PREFIX) for body in bodies)
    assert not [body for body in bodies if NAME in body or ID_NUMBER in body or PHONE in body]
    if db_url.startswith("sqlite:///"):  # nor anywhere in the files: database, write-ahead log
        database = Path(db_url[len("sqlite:///") :])
        for path in [database, *database.parent.glob(database.name + "-*")]:
            content = path.read_bytes()
            for secret in (NAME, ID_NUMBER, PHONE):
                assert secret.encode() not in content, f"{secret} in {path.name}"
        key = key_path(db_url)
        assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_the_wrong_key_file_is_refused_with_a_clear_message(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_database(sqlite_url) as db:
        grid = create_grid(db, town="玉屏街道", name="一网格")
    other = tmp_path / "other.key"
    other.write_bytes(b"k" * 32)
    monkeypatch.setenv(KEY_FILE_ENV, str(other))
    with pytest.raises(DatabaseError, match=r"other\.key does not open the database .*sealed with another key"):
        open_database(sqlite_url)
    monkeypatch.delenv(KEY_FILE_ENV)
    with open_database(sqlite_url) as db:  # its own key still opens it, nothing was changed
        assert db.get_record(grid)["fields"]["name"] == "一网格"


def test_a_missing_key_file_is_named_and_not_replaced(sqlite_url: str) -> None:
    with open_database(sqlite_url) as db:
        create_grid(db, town="玉屏街道", name="一网格")
    key = key_path(sqlite_url)
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(DatabaseError, match=r"server\.db\.key of the database .* is missing.*restore the key file"):
        open_database(sqlite_url)
    assert not key.exists()  # no new, useless key left behind in its place
    key.write_bytes(saved)
    with open_database(sqlite_url) as db:
        assert len(db.list_grids()) == 1


def test_a_body_moved_to_another_record_does_not_open(sqlite_url: str) -> None:
    with open_database(sqlite_url) as db:
        first = create_grid(db, town="玉屏街道", name="一网格")
        second = create_grid(db, town="玉屏街道", name="二网格")
    path = sqlite_url[len("sqlite:///") :]
    with sqlite3.connect(path) as connection:
        (body,) = connection.execute("SELECT body FROM records WHERE id = ?", (first,)).fetchone()
        connection.execute("UPDATE records SET body = ? WHERE id = ?", (body, second))
    with open_database(sqlite_url) as db:
        assert db.get_record(first)["fields"]["name"] == "一网格"
        with pytest.raises(SealError, match=f"record {second} does not open"):
            db.get_record(second)


def test_a_database_from_before_sealing_is_sealed_when_opened(sqlite_url: str) -> None:
    with open_database(sqlite_url) as db:
        grid = create_grid(db, town="玉屏街道", name="一网格")
    path = sqlite_url[len("sqlite:///") :]
    plaintext = {"id": "old-household-1", "kind": "household", "grid": grid, "fields": {"head": NAME}, "stamps": {},
                 "sets": {}, "conflicts": {}}  # fmt: skip
    key = Sealer(key_path(sqlite_url).read_bytes())
    with sqlite3.connect(path) as connection:  # as an earlier version wrote it: plaintext bodies, no check value
        (grid_body,) = connection.execute("SELECT body FROM records WHERE id = ?", (grid,)).fetchone()
        connection.execute("UPDATE records SET body = ? WHERE id = ?", (key.open(grid, grid_body).decode(), grid))
        connection.execute(
            "INSERT INTO records (id, kind, grid, seq, body) VALUES (?, 'household', ?, 2, ?)",
            ("old-household-1", grid, orjson.dumps(plaintext).decode()),
        )
        connection.execute("DELETE FROM meta WHERE key = ?", (SEAL_CHECK_KEY,))
    assert any(NAME in body for body in raw_bodies(sqlite_url))

    with open_database(sqlite_url) as db:
        assert db.get_record("old-household-1")["fields"]["head"] == NAME
        assert db.get_record(grid)["fields"]["name"] == "一网格"
    assert all(body.startswith(PREFIX) for body in raw_bodies(sqlite_url))
    database = Path(path)
    for file in [database, *database.parent.glob(database.name + "-*")]:  # VACUUM left no old page behind
        assert NAME.encode() not in file.read_bytes(), file.name
