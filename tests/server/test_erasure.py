"""Erasure by retention rule, as the town office and a grid worker meet it: ``field-server retention`` and
``purge`` run as real processes against a real server on 127.0.0.1 with enrolled encrypted tablets that sync; then
every byte of the tablets' store directories, the server's database (SQLite with its WAL) and its audit log is
searched for the erased values in several encodings, and every frame and row is opened with its key."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from field_agent.ledgers.device import export_from_store
from field_agent.store import Store
from field_agent.store.log import frame_text, scan_log
from field_agent.store.opening import open_directory
from field_agent.sync.agent import SyncAgent, SyncResult, enroll
from field_agent.sync.backoff import RetryPolicy
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.office import issue_office_token
from server_stub.records import create_grid
from server_stub.sealing import KEY_FILE_ENV, key_path

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple 42"
RETRY = RetryPolicy(attempts=20, base_s=0.002, cap_s=0.02, budget_s=10)

# values only the erased records hold (the resident, household and round stay)
SAMPLING_TEAM = "第七采样队丙"
SAMPLING_WHEN = "2026-11-02T09:41:00+08:00"
FOLLOWUP_NEEDS = "需要降压药请联系13987654321"
FOLLOWUP_DIGITS = "13987654321"
HEALTH_OTHER = "咽痛伴轻微咳嗽已三天"
UNSENT_NEEDS = "离线补录的随访需求甲乙"
UNSENT_HEALTH = "离线补录的健康情况丙丁"
ERASED = [SAMPLING_TEAM, SAMPLING_WHEN, FOLLOWUP_NEEDS, FOLLOWUP_DIGITS, HEALTH_OTHER, UNSENT_NEEDS, UNSENT_HEALTH]
KEPT_REASON = "冲突中的免检原因"


def encodings(text: str) -> list[bytes]:
    forms = [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(text.encode("gbk"))
    escaped = json.dumps(text)[1:-1]  # \uXXXX, as ensure_ascii JSON writes it
    forms += [escaped.encode("ascii"), escaped.lower().encode("ascii")]
    return [form for form in forms if len(form) >= 4]


def bytes_found(paths: list[Path], needles: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        content = path.read_bytes()
        found += [(path.name, needle) for needle in needles if any(form in content for form in encodings(needle))]
    return found


def frames_holding(store_dir: Path, needles: list[str]) -> list[tuple[int, str]]:
    """Open every frame of the tablet's log with its data key: (frame number, needle) for each erased value
    that a frame still decrypts to."""
    unlocked = open_directory(store_dir, PASSPHRASE)
    try:
        scan = scan_log(store_dir / "store.log", unlocked.header.store_id, unlocked.data_key, salvage=True)
    finally:
        unlocked.writer.close()
        unlocked.lock.release()
    assert not scan.damage
    hits = []
    for frame in scan.frames:
        text = frame.body + frame_text(frame)  # the frame as sealed, and every document in it unpacked
        hits += [(frame.seq, n) for n in needles if any(form in text for form in encodings(n))]
    return hits


class Server:
    """The town server under uvicorn on a free loopback port, in a thread, on the given database."""

    def __init__(self, url: str) -> None:
        self.db = open_database(url)
        app = create_app(self.db, Settings(enroll_attempts=10_000))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the test server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.db.close()


@pytest.fixture
def town(db_url: str, tmp_path: Path) -> Iterator[tuple[Server, str, Path]]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'server.db'}" if db_url.startswith("sqlite") else db_url
    server = Server(url)
    yield server, url, data_dir
    server.stop()


def field_server(data_dir: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``field-server`` as its own process, the way the town office's IT staff runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), KEY_FILE_ENV: str(key_path(url))}  # the server's own key
    return subprocess.run(
        [sys.executable, "-c", "from server_stub.cli import main; main()", "--data-dir", str(data_dir), *args,
         "--db", url],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


async def tablet(server: Server, grid: str, directory: Path, worker: str) -> Store:
    store = await asyncio.to_thread(Store.create, directory, PASSPHRASE)
    code = issue_code(server.db, grid, worker, "worker", 3_600_000)["code"]
    await enroll(store, server.url, code, worker)
    return store


async def sync(store: Store) -> SyncResult:
    result = await SyncAgent(store, retry=RETRY).sync()
    assert result.error is None, result.error
    return result


def resident_values(household: str) -> dict[str, Any]:
    from datetime import date

    from field_agent.domain.idnumber import make_id_number

    return {
        "household": household,
        "name": "欧阳秀兰",
        "id_number": make_id_number("350181", date(1948, 3, 9), 17, "female"),
        "residency": "resident",
        "isolation_status": "home",
        "isolation_start": "2026-10-20",
        "isolation_days": 14,
    }


def fill(store: Store) -> dict[str, str]:
    """A household, a resident isolated at home, an open round with two samplings, a follow-up and a visit with
    health answers."""
    household = store.put("household", {"address": "东门社区3栋1单元301", "head": "欧阳秀兰"})["id"]
    resident = store.put("resident", resident_values(household))["id"]
    round_id = store.put(
        "sampling_round", {"name": "第12轮", "started_at": "2026-11-01T08:00:00+08:00", "status": "open"}
    )["id"]
    sampled = store.put(
        "sampling",
        {"round": round_id, "resident": resident, "household": household, "status": "sampled",
         "sampled_at": SAMPLING_WHEN, "by": "林芳", "team": SAMPLING_TEAM},
    )["id"]  # fmt: skip
    contested = store.put(
        "sampling",
        {"round": round_id, "resident": resident, "household": household, "status": "exempt", "reason": "卧床"},
    )["id"]
    followup = store.put(
        "followup",
        {"resident": resident, "date": "2026-10-25", "temperature": 37.9, "needs": FOLLOWUP_NEEDS,
         "contact_made": True, "by": "林芳"},
    )["id"]  # fmt: skip
    visit = store.put(
        "visit",
        {"household": household, "visited_at": "2026-10-26T10:00:00+08:00", "worker": "林芳", "outcome": "met",
         "residents_seen": [resident], "health": {resident: {"fever": True, "cough": True, "other": HEALTH_OTHER}}},
    )["id"]  # fmt: skip
    return {"household": household, "resident": resident, "round": round_id, "sampled": sampled,
            "contested": contested, "followup": followup, "visit": visit}  # fmt: skip


def sealed_bodies_of(paths: list[Path], record_ids: list[str], url: str) -> list[tuple[str, str]]:
    """(file, record id) for every sealed body (``fa1:`` + hex) in the raw bytes of the files, free pages and
    WAL frames included, that opens with the server's key as one of the given records."""
    import re

    from server_stub.sealing import SealError, sealer_for

    sealer = sealer_for(url)
    found = []
    for path in paths:
        for blob in re.findall(rb"fa1:[0-9a-f]{40,}", path.read_bytes()):
            for record_id in record_ids:
                with contextlib.suppress(SealError):
                    sealer.open(record_id, blob.decode())
                    found.append((path.name, record_id))
    return found


def server_plaintext(url: str) -> list[bytes]:
    """Every row of every table of the server's database, record bodies opened with the server's key."""
    db = open_database(url)
    try:
        rows = [orjson.dumps(envelope) for envelope in db.iter_records()]
        with db._reader() as connection:  # type: ignore[attr-defined]
            for table in ("meta", "devices", "enroll_codes", "batches", "purged", "grid_seq"):
                cursor = connection.execute(f"SELECT * FROM {table}")
                rows += [orjson.dumps([str(value) for value in row]) for row in cursor.fetchall()]
    finally:
        db.close()
    return rows


async def test_purge_erases_everywhere_and_reaches_every_tablet(
    town: tuple[Server, str, Path], tmp_path: Path, db_url: str
) -> None:
    server, url, data_dir = town
    grid = create_grid(server.db, town="玉屏街道", name="东门社区第1网格")
    a = await tablet(server, grid, tmp_path / "a", "林芳")
    b = await tablet(server, grid, tmp_path / "b", "王强")
    ids = await asyncio.to_thread(fill, a)
    await sync(a)
    await sync(b)
    # a true conflict on one sampling: both tablets change its reason without seeing each other
    a.put("sampling", {"reason": KEPT_REASON}, record_id=ids["contested"])
    b.put("sampling", {"reason": "另一个原因"}, record_id=ids["contested"])
    await sync(a)
    await sync(b)
    assert server.db.get_record(ids["contested"])["conflicts"]
    # the outbreak is over: the round closes, the isolation ends; both tablets see it
    a.put("sampling_round", {"status": "closed"}, record_id=ids["round"])
    a.put("resident", {"isolation_status": "ended"}, record_id=ids["resident"])
    await sync(a)
    await sync(b)
    # b edits the follow-up offline and has not synced when the office purges
    b.put("followup", {"needs": UNSENT_NEEDS}, record_id=ids["followup"])
    # and a corrects the visit's health answers offline, an edit made before the erasure it has not heard of
    answers = {ids["resident"]: {"fever": False, "cough": True, "other": UNSENT_HEALTH}}
    a.put("visit", {"health": answers}, record_id=ids["visit"])

    shown = field_server(data_dir, url, "retention", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["rules"] == {
        "sampling": 30,
        "followup": 30,
        "visit_health": 30,
        "campaign_result": 30,
    }
    for kind in ("sampling", "followup", "visit_health"):
        assert field_server(data_dir, url, "retention", "set", kind, "0").returncode == 0
    bad = field_server(data_dir, url, "retention", "set", "sampling", "forever")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "whole number" in bad.stderr

    dry = field_server(data_dir, url, "purge", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    expected = {"sampling": 1, "followup": 1, "visit_health": 1, "campaign_result": 0}
    assert json.loads(dry.stdout)["erased"] == expected
    assert json.loads(dry.stdout)["held_open_conflicts"] == {
        "sampling": 1,
        "followup": 0,
        "visit_health": 0,
        "campaign_result": 0,
    }
    assert server.db.get_record(ids["sampled"]) is not None  # a dry run changes nothing
    assert not (data_dir / "audit.jsonl").exists()

    done = field_server(data_dir, url, "purge", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["erased"] == expected and report["dry_run"] is False and report["space_reclaimed"] is True
    audit = [json.loads(line) for line in (data_dir / "audit.jsonl").read_text("utf-8").splitlines()]
    assert [(e["action"], e["erased"], e["held_open_conflicts"]["sampling"]) for e in audit] == [("purge", expected, 1)]
    # on the server: the records are gone, the contested one held, the visit kept without its answers
    assert server.db.get_record(ids["sampled"]) is None and server.db.get_record(ids["followup"]) is None
    assert server.db.get_record(ids["contested"]) is not None
    assert server.db.get_record(ids["visit"])["fields"]["health"] is None
    assert server.db.get_record(ids["resident"]) is not None and server.db.get_record(ids["round"]) is not None

    synced_a = await sync(a)
    synced_b = await sync(b)
    assert synced_a.erased == 3 and synced_a.erased_unsent == 0  # its health edit was sent, without the answers
    assert server.db.get_record(ids["visit"])["conflicts"] == {}  # the stale answers did not come back as a conflict
    assert synced_b.erased == 3 and synced_b.erased_unsent == 1  # its unsent follow-up edit went with it
    for store in (a, b):
        assert store.get(ids["sampled"]) is None and store.get(ids["followup"]) is None
        assert store.get(ids["visit"])["fields"]["health"] is None
        assert store.get(ids["contested"]) is not None and store.get(ids["resident"]) is not None
        assert store.pending_count() == 0 and store.refused_changes() == []
    # b's unsent edit reached the server first and was refused there: the erased record did not come back
    assert server.db.get_record(ids["followup"]) is None
    # and a full record under an erased id is refused too, with the date, never re-created
    change = {"record": ids["sampled"], "kind": "sampling", "grid": grid, "fields": {
        name: {"value": value, "stamp": b.clock.now()} for name, value in
        {"round": ids["round"], "resident": ids["resident"], "household": ids["household"], "status": "missed"}.items()
    }}  # fmt: skip
    answer = httpx.post(
        f"{server.url}/v1/push", json={"batch_id": "erased-id-check", "changes": [change]},
        headers={"Authorization": f"Bearer {b.meta_get('token')}"},
    ).json()["results"][0]  # fmt: skip
    assert (answer["status"], answer["code"]) == ("refused", "purged") and "已按规定删除" in answer["reason"]
    assert server.db.get_record(ids["sampled"]) is None
    # the ledgers and the office page say the data was erased by rule, not that anyone was left out
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    erased_label = f"已按规定删除（{today}）"
    out = tmp_path / "rounds.csv"
    exported = field_server(data_dir, url, "export", "sampling", "--grid", grid, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    round_row = next(iter(csv.DictReader(out.read_text("utf-8-sig").splitlines()[1:])))  # after the title line
    assert round_row["遗漏人数"] == erased_label and round_row["覆盖率"] == erased_label
    token = issue_office_token(server.db)
    overview = httpx.get(f"{server.url}/v1/office/overview", headers={"Authorization": f"Bearer {token}"}).json()
    row = overview["grids"][0]
    assert row["sampling_erased"] == today and row["left_out"] == 0 and row["coverage"] is None
    page = httpx.get(f"{server.url}/office", headers={"Authorization": f"Bearer {token}"}).text
    assert erased_label in page
    isolation = export_from_store(a, "isolation", tmp_path / "isolation.csv").as_dicts()
    assert [r["last_followup_date"] for r in isolation] == [erased_label]
    visits = export_from_store(b, "visits", tmp_path / "visits.csv").as_dicts()
    assert [r["health_flags"] for r in visits] == [erased_label]
    a.close()
    b.close()

    for directory in (tmp_path / "a", tmp_path / "b"):
        files = [path for path in directory.rglob("*") if path.is_file()]
        assert bytes_found(files, ERASED) == []
        assert frames_holding(directory, ERASED) == []
        assert frames_holding(directory, [KEPT_REASON])  # the held record is still there, and findable
    for row in server_plaintext(url):
        assert not [n for n in ERASED if any(form in row for form in encodings(n))], row[:200]
    server_files = [path for path in data_dir.rglob("*") if path.is_file()]
    # PostgreSQL keeps its files under the postgres user: only the rows are checked there (above)
    assert bytes_found(server_files, ERASED) == []
    if db_url.startswith("sqlite"):
        # live or dead: no sealed body left anywhere in the file or its WAL opens as one of the erased records
        erased_ids = [ids["sampled"], ids["followup"]]
        assert sealed_bodies_of(server_files, erased_ids, url) == []
