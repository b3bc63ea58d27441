"""Runs of the real Store whose file operations are recorded, each call acknowledged when it returns."""

from __future__ import annotations

import random
from pathlib import Path

from field_agent.store import Store

from .checker import Survivor
from .model import Trace, materialize
from .recorder import Recorder, recording, tables_of

OLD = "correct horse battery staple"
NEW = "purple elephant under 7 lanterns"


def household(number: int) -> dict[str, str]:
    return {"address": f"幸福路 {number} 号", "head": f"住户{number}", "notes": "记录" * (number % 7)}


def _saves(store: Store, recorder: Recorder, numbers: range, passphrase: str) -> None:
    for number in numbers:
        store.put("household", household(number))
        recorder.ack(f"save {number}", tables_of(store), passphrase)


def small_run(base: Path, recorder_hook=None) -> Trace:
    """Create, 3 saves, compaction, a save, passphrase change, a save, close: 5 acknowledged saves."""
    with recording(base) as recorder:
        if recorder_hook:
            recorder_hook(recorder)
        recorder.ack("nothing", None, OLD)
        store = Store.create(base / "store", OLD, grid="grid-1")
        recorder.ack("create", tables_of(store), OLD)
        with store:
            _saves(store, recorder, range(1, 4), OLD)
            store.compact()
            recorder.ack("compaction", tables_of(store), OLD)
            _saves(store, recorder, range(4, 5), OLD)
            store.passwd(OLD, NEW)
            recorder.ack("passphrase change", tables_of(store), NEW)
            _saves(store, recorder, range(5, 6), NEW)
            tables = tables_of(store)
        recorder.ack("close", tables, NEW)
    return recorder.trace


def long_run(base: Path, seed: int, saves: int = 60) -> Trace:
    """Many saves, batches and deletes with automatic compaction (tiny threshold), two passphrase changes, and a
    close and reopen in the middle."""
    rng = random.Random(seed)
    passphrase = OLD
    with recording(base) as recorder:
        recorder.ack("nothing", None, OLD)
        store = Store.create(base / "store", OLD, grid="grid-1")
        recorder.ack("create", tables_of(store), OLD)
        ids: list[str] = []
        for number in range(1, saves + 1):
            store.storage.min_compact_bytes = 4096
            roll = rng.random()
            if roll < 0.15 and ids:
                store.delete(ids.pop(rng.randrange(len(ids))))
                label = f"delete at {number}"
            elif roll < 0.3:
                with store.batch():
                    for offset in range(3):
                        ids.append(store.put("household", household(number * 10 + offset))["id"])
                label = f"batch {number}"
            else:
                ids.append(store.put("household", household(number))["id"])
                label = f"save {number}"
            recorder.ack(label, tables_of(store), passphrase)
            if number in (saves // 3, 2 * saves // 3):
                new = NEW if passphrase == OLD else OLD
                store.passwd(passphrase, new)
                passphrase = new
                recorder.ack(f"passphrase change at {number}", tables_of(store), passphrase)
            if number == saves // 2:
                tables = tables_of(store)
                store.close()
                recorder.ack("close", tables, passphrase)
                store = Store.open(base / "store", passphrase)
                recorder.ack("reopen", tables_of(store), passphrase)
        tables = tables_of(store)
        store.close()
        recorder.ack("close", tables, passphrase)
    return recorder.trace


def recovery_run(base: Path, survivor: Survivor) -> tuple[Trace, int]:
    """Open a crash state that holds a torn save (the open cuts it off), save once more and close: a crash during
    the recovery itself must lose nothing either. Returns the trace and its first crash point."""
    base.mkdir(parents=True)
    materialize(survivor.files, base)
    passphrase = survivor.passphrase
    with recording(base) as recorder:
        start = recorder.adopt()
        recorder.ack("the crash state", survivor.tables, passphrase)
        with Store.open(base / "store", passphrase) as store:
            assert store.open_report and store.open_report.get("torn_bytes")
            recorder.ack("open (torn save cut off)", tables_of(store), passphrase)
            store.put("household", household(99))
            recorder.ack("save after recovery", tables_of(store), passphrase)
            tables = tables_of(store)
        recorder.ack("close", tables, passphrase)
    return recorder.trace, start
