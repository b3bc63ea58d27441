"""The storage interface on both databases: atomic transactions, ordered sequence numbers, group commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import orjson
import pytest

from field_agent.domain.envelope import new_envelope
from server_stub.db import Database, open_database
from server_stub.db.sql import RecordRaced
from server_stub.errors import DatabaseError


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def household(record_id: str, grid: str, notes: str = "") -> dict:
    envelope = new_envelope(record_id, "household", grid)
    envelope["fields"]["notes"] = notes
    return envelope


def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction("g1") as tx:
        tx.put_records("g1", [household("r1", "g1")])
        tx.set_meta("k", "v")
        raise RuntimeError("boom")
    assert db.get_record("r1") is None
    assert db.count_records() == 0
    with db.transaction() as tx:
        assert tx.get_meta("k") is None


def test_sequence_numbers_follow_writes_per_grid(db: Database) -> None:
    with db.transaction("g1") as tx:
        tx.put_records("g1", [household("a", "g1"), household("b", "g1")])
    with db.transaction("g2") as tx:
        tx.put_records("g2", [household("x", "g2")])
    with db.transaction("g1") as tx:
        tx.put_records("g1", [household("a", "g1", "again")])
    assert [(seq, orjson.loads(body)["id"]) for seq, body in db.pull_page("g1", 0, 10)] == [(2, "b"), (3, "a")]
    assert [e["id"] for e in db.iter_records("g1")] == ["b", "a"]
    assert sorted(e["id"] for e in db.iter_records()) == ["a", "b", "x"]
    assert db.pull_page("g1", 2, 10)[0][0] == 3 and db.pull_page("g1", 3, 10) == []
    assert db.get_record("a")["fields"]["notes"] == "again"


def test_a_record_id_of_another_grid_is_never_overwritten(db: Database) -> None:
    with db.transaction("g1") as tx:
        tx.put_records("g1", [household("shared", "g1", "mine")])
    with pytest.raises(RecordRaced), db.transaction("g2") as tx:
        tx.put_records("g2", [household("shared", "g2", "theirs")])
    record = db.get_record("shared")
    assert record["grid"] == "g1" and record["fields"]["notes"] == "mine"


def test_concurrent_writers_commit_everything_once_and_failures_alone(db: Database) -> None:
    failures: list[Exception] = []

    def writer(worker: int) -> None:
        for n in range(15):
            try:
                with db.transaction("g") as tx:
                    tx.put_records("g", [household(f"w{worker}-{n}", "g")])
                    if n % 5 == 4:
                        raise ValueError(f"unit {worker}-{n} fails")
            except ValueError as error:
                failures.append(error)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = {envelope["id"] for envelope in db.iter_records("g")}
    assert len(failures) == 8 * 3
    assert stored == {f"w{w}-{n}" for w in range(8) for n in range(15) if n % 5 != 4}
    seqs = [seq for seq, _ in db.pull_page("g", 0, 1000)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_devices_and_grids_are_listed(db: Database) -> None:
    grid = new_envelope("g1", "grid", "g1")
    grid["fields"].update(town="玉屏街道", community="东门社区", name="一网格", mode="normal")
    with db.transaction("g1") as tx:
        tx.put_records("g1", [grid, household("h", "g1")])
        tx.insert_device(
            {
                "id": "d1",
                "grid": "g1",
                "worker": "王芳",
                "role": "worker",
                "name": "tab",
                "node_id": "00000000000a",
                "created": 1,
                "token_hash": "x" * 64,
            }
        )
    assert db.list_grids() == [
        {
            "id": "g1",
            "town": "玉屏街道",
            "community": "东门社区",
            "name": "一网格",
            "mode": "normal",
            "leader": None,
            "deleted": False,
            "records": 2,
            "devices": 1,
        }
    ]
    (device,) = db.list_devices()
    assert device["worker"] == "王芳" and device["revoked"] is None and device["last_sync"] is None
    assert db.device_by_token_hash("x" * 64)["id"] == "d1"


def test_bad_urls_say_what_to_use(tmp_path) -> None:
    with pytest.raises(DatabaseError, match="use sqlite:///path or postgresql://"):
        open_database("mysql://localhost/x")
    with pytest.raises(DatabaseError, match="schema name"):
        open_database("postgresql://postgres@127.0.0.1:5432/test?schema=Bad-Name")
