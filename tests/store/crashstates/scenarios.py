"""Runs of the real Store whose file operations are recorded, each call acknowledged when it returns."""

from __future__ import annotations

import random
from pathlib import Path

from field_agent.store import Store
from field_agent.store.compaction import Compaction

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
    """Create, 3 saves, compaction, a save, passphrase change, a save, a background compaction with a save while it
    runs, a save, close: 8 acknowledged saves."""
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
            # a compaction in the background: started by save 6, snapshot written, save 7, then the switch
            started: list[Compaction] = []
            store.storage.run_compaction = started.append
            store.storage.min_compact_bytes = 0
            _saves(store, recorder, range(6, 7), NEW)
            (job,) = started
            job.build()
            recorder.ack("snapshot written beside the log", tables_of(store), NEW)
            _saves(store, recorder, range(7, 8), NEW)
            with store.storage.lock:
                job.settle()
            assert store.storage.writer.generation == job.generation
            recorder.ack("log switched", tables_of(store), NEW)
            store.storage.min_compact_bytes = 1 << 30
            _saves(store, recorder, range(8, 9), NEW)
            tables = tables_of(store)
        recorder.ack("close", tables, NEW)
    return recorder.trace


class Steps:
    """Runs background compactions one step at a time at points the scenario draws, in the recording thread (so
    the recording is deterministic): saves land before the snapshot is written, between that and the switch, or
    both; a compaction still running at close is finished by ``close``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.job: Compaction | None = None
        self.started = self.switched = self.with_saves = 0

    def __call__(self, job: Compaction) -> None:
        self.job = job
        self.started += 1

    def step(self, store: Store, recorder: Recorder, passphrase: str) -> None:
        job = self.job
        if job is None or self.rng.random() < 0.4:
            return
        if not job.built.is_set():
            job.build()
            recorder.ack("snapshot written beside the log", tables_of(store), passphrase)
            return
        saved = len(job.saved)
        with store.storage.lock:
            job.settle()
        self.job = None
        self.switched += store.storage.writer.generation == job.generation
        self.with_saves += saved > 0
        recorder.ack(f"log switched ({saved} saves re-sealed)", tables_of(store), passphrase)


def long_run(base: Path, seed: int, saves: int = 60, steps: Steps | None = None) -> Trace:
    """Many saves, batches and deletes with automatic compaction (tiny threshold) run a step at a time between
    them, two passphrase changes, and a close and reopen in the middle."""
    rng = random.Random(seed)
    steps = steps or Steps(random.Random(seed + 1))
    passphrase = OLD
    with recording(base) as recorder:
        recorder.ack("nothing", None, OLD)
        store = Store.create(base / "store", OLD, grid="grid-1")
        store.storage.run_compaction = steps
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
            steps.step(store, recorder, passphrase)
            if number in (saves // 3, 2 * saves // 3):
                new = NEW if passphrase == OLD else OLD
                store.passwd(passphrase, new)
                passphrase = new
                recorder.ack(f"passphrase change at {number}", tables_of(store), passphrase)
            if number == saves // 2:
                tables = tables_of(store)
                store.close()
                steps.job = None  # close finished it
                recorder.ack("close", tables, passphrase)
                store = Store.open(base / "store", passphrase)
                store.storage.run_compaction = steps
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
