"""Crash safety: a real writer process is killed with SIGKILL at random moments, hundreds of times.

After every kill the store must open, and every record whose save had returned (the writer reports it only after
``put`` or the enclosing ``batch`` returns) must be there, intact. Compaction runs often (tiny threshold), so kills
also land in the middle of compactions.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from pathlib import Path

from field_agent.store import Store

from .conftest import PASSPHRASE

ROUNDS = 200


def payload(number: int) -> dict[str, str]:
    return {"address": f"幸福路 {number} 号", "head": f"住户{number}", "notes": "记录" * (number % 40)}


def writer(store_dir: Path, write_fd: int, first: int, use_batches: bool) -> None:
    """Runs in the child: save records forever, reporting each one after its save returned."""
    try:
        with Store.open(store_dir, PASSPHRASE) as store:
            store.storage.min_compact_bytes = 16_384
            os.write(write_fd, b"ready\n")
            number = first
            while True:
                if use_batches:
                    saved = []
                    with store.batch():
                        for offset in range(5):
                            saved.append((store.put("household", payload(number + offset))["id"], number + offset))
                    number += 5
                else:
                    saved = [(store.put("household", payload(number))["id"], number)]
                    number += 1
                os.write(write_fd, "".join(f"{rid} {n}\n" for rid, n in saved).encode())
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


def run_and_kill(store_dir: Path, first: int, rng: random.Random) -> list[tuple[str, int]]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        writer(store_dir, write_fd, first, use_batches=rng.random() < 0.3)
    os.close(write_fd)
    received = b""
    while not received.startswith(b"ready\n"):
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        received += chunk
    # Kill after a random number of acknowledged saves plus a random few milliseconds: mid-save, mid-fsync,
    # mid-compaction or between saves, wherever that lands.
    wanted_acks = rng.randrange(0, 6)
    while received.count(b"\n") - 1 < wanted_acks:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        received += chunk
    deadline = time.monotonic() + rng.uniform(0.0, 0.01)
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            received += chunk
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while chunk := os.read(read_fd, 65536):
        received += chunk
    os.close(read_fd)
    lines = received.decode().splitlines()[1:]
    return [(rid, int(n)) for rid, n in (line.split() for line in lines)]


def test_sigkill_at_random_moments_loses_nothing_acknowledged(store_dir: Path) -> None:
    Store.create(store_dir, PASSPHRASE, grid="grid-1").close()
    rng = random.Random(20261130)
    acknowledged: dict[str, int] = {}
    torn_reports = 0
    next_number = 0
    for _ in range(ROUNDS):
        saved = run_and_kill(store_dir, next_number, rng)
        acknowledged.update(saved)
        next_number += 1000
        with Store.open(store_dir, PASSPHRASE) as store:
            torn_reports += store.open_report is not None
            for record_id, number in acknowledged.items():
                record = store.get(record_id)
                assert record is not None, f"acknowledged record {number} lost"
                assert record["fields"] == payload(number)
            assert store.pending_count() == len(store.records("household"))
    assert len(acknowledged) >= 2 * ROUNDS  # on average 2.5 acknowledged saves per run before the kill
    assert not list(store_dir.glob("*.tmp"))
