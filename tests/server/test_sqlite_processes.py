"""One SQLite server database written by several processes (server workers, admin commands) at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson

from field_agent.domain.envelope import new_envelope
from server_stub.db import open_database

WRITER = textwrap.dedent(
    """
    import sys
    from field_agent.domain.envelope import new_envelope
    from server_stub.db import open_database

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = open_database(url)
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    for n in range(count):
        with db.transaction("g1") as tx:
            envelope = new_envelope(f"{name}-{n:04d}", "household", "g1")
            envelope["fields"]["notes"] = name
            tx.put_records("g1", [envelope])
    db.close()
    print("done", flush=True)
    """
)


def start_writer(url: str, name: str, count: int) -> subprocess.Popen[str]:
    """A process with the database open, writing ``count`` records, one per transaction, once told to go."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, name, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
    return process


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def test_writer_processes_take_turns_and_number_every_record_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    open_database(url).close()
    writers = [start_writer(url, f"p{i}", 150) for i in range(3)]
    for writer in writers:
        go(writer)
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert out.strip() == "done"
    db = open_database(url)
    try:
        page = db.pull_page("g1", 0, 1000)
        assert [seq for seq, _ in page] == list(range(1, 451))  # no gap, no number twice
        ids = [orjson.loads(body)["id"] for _, body in page]
        assert sorted(ids) == sorted(f"p{i}-{n:04d}" for i in range(3) for n in range(150))
        for i in range(3):  # each process's records in the order it wrote them
            own = [record_id for record_id in ids if record_id.startswith(f"p{i}-")]
            assert own == sorted(own)
    finally:
        db.close()


def test_a_writer_process_waits_for_another_process_to_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = open_database(url)
    writer = start_writer(url, "later", 1)
    try:
        with db.transaction("g1") as tx:
            envelope = new_envelope("held-0001", "household", "g1")
            tx.put_records("g1", [envelope])
            go(writer)
            time.sleep(0.5)  # the other process is blocked on the lock: it cannot have written
            assert writer.poll() is None
            assert db.count_records("g1") == 0  # (not committed yet: readers see nothing)
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.strip() == "done"
        assert [orjson.loads(body)["id"] for _, body in db.pull_page("g1", 0, 10)] == ["held-0001", "later-0000"]
    finally:
        writer.kill()
        writer.wait()
        db.close()
