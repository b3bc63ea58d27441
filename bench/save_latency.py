"""Save latency across compactions: does any save wait for one? Prints p50/p95/p99/p99.9/max of Store.put.

    .venv/bin/python bench/save_latency.py --records 200000 --saves 4000 --every 1000 --runs 2 \\
        --compare /path/to/other/checkout

A store of ``--records`` varied resident records (bench/varied.py) is built once and copied for each run. A run
opens the copy and times ``--saves`` single saves (Store.put of a new resident, each fsynced); the compaction
threshold is set so that one is due every ``--every`` saves (the snapshot counted as 0 bytes, the minimum set to
``--every`` times the average save), so a run crosses it ``saves / every`` times. After open the loaded objects are
frozen out of the cyclic GC's reach, as the terminal app does (a full collection over 200,000 records otherwise
stops every thread for 1–4 s, compaction or not; the run reports the full collections it saw). With ``--compare``
the same runs are made with that checkout's code (in a subprocess with its PYTHONPATH), interleaved with ours.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")


def varied_records(count: int, seed: int = 7) -> list[dict[str, object]]:
    """bench/varied.py's records, loaded from beside this file (a --compare checkout may have no such module)."""
    spec = importlib.util.spec_from_file_location("bench_varied", Path(__file__).with_name("varied.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records: list[dict[str, object]] = module.varied_records(count, seed)
    return records


PASSPHRASE = "benchmark passphrase of decent length"


def build(path: Path, records: int) -> None:
    from field_agent.store import Store

    with Store.create(path, PASSPHRASE, grid="bench") as store:
        rows = varied_records(records)
        for start in range(0, records, 5000):
            with store.batch():
                for row in rows[start : start + 5000]:
                    store.put("resident", row)
        store.compact()


def run(path: Path, saves: int, every: int) -> dict[str, object]:
    import field_agent
    from field_agent.store import Store

    rows = varied_records(saves + 50, seed=99)
    samples = []
    collections: list[float] = []
    started: list[float] = []

    def gc_timer(phase: str, info: dict[str, int]) -> None:  # the cyclic GC's full collections, which hold the GIL
        if info["generation"] == 2:
            if phase == "start":
                started.append(time.perf_counter())
            elif started:
                collections.append((time.perf_counter() - started.pop()) * 1000)

    gc.callbacks.append(gc_timer)
    with Store.open(path, PASSPHRASE) as store:
        gc.freeze()  # as the terminal app does after unlocking (field_agent/tui/app.py): no full GC over the records
        storage = store.storage
        before = storage.appended_bytes
        for row in rows[:50]:
            store.put("resident", row)
        per_save = max(1, (storage.appended_bytes - before) // 50)
        storage.min_compact_bytes = per_save * every
        generation = storage.writer.generation
        switches: list[tuple[float, float]] = []  # when the new code held the lock to switch logs
        switch = getattr(storage.writer, "switch_to_next", None)
        if switch is not None:

            def timed_switch(*args: object) -> object:
                began = time.perf_counter()
                try:
                    return switch(*args)
                finally:
                    switches.append((began, time.perf_counter()))

            storage.writer.switch_to_next = timed_switch
        slow: list[tuple[float, float]] = []
        for row in rows[50:]:
            storage.snapshot_bytes = 0
            start = time.perf_counter()
            store.put("resident", row)
            end = time.perf_counter()
            samples.append((end - start) * 1000)
            if end - start > 0.05:
                slow.append((start, end))
        switched = storage.writer.generation - generation
        close_start = time.perf_counter()
    close_ms = (time.perf_counter() - close_start) * 1000
    samples.sort()

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, int(p / 100 * len(samples)))]

    return {
        "code": str(Path(field_agent.__file__).parents[1]),
        "saves": len(samples),
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "p99.9": pct(99.9),
        "max": samples[-1],
        "compactions_done": switched,
        "close_ms": close_ms,
        "log_bytes": (path / "store.log").stat().st_size,
        "full_gcs": len(collections),
        "switch_ms": [round((b - a) * 1000, 1) for a, b in switches],
        "saves_over_50ms": len(slow),
        "of_them_during_a_switch": sum(any(a < e and s < b for a, b in switches) for s, e in slow),
        "longest_full_gc_ms": max(collections, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--saves", type=int, default=4000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--compare", type=Path, help="another checkout whose store code to measure as well")
    parser.add_argument("--store", type=Path, help="keep the built store here (reused if it exists)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a single run on this store copy
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.saves, args.every)))
        return
    root = Path(tempfile.mkdtemp(prefix="save-latency-", dir=os.environ.get("BENCH_DIR")))
    try:
        base = args.store or root / "base"
        if not (base / "store.log").exists():
            started = time.perf_counter()
            build(base, args.records)
            print(f"built {args.records} records in {time.perf_counter() - started:.0f} s")
        print(f"load average {os.getloadavg()}")
        here = str(Path(__file__).resolve().parents[1])
        codes = [("this checkout", here)] + ([("compare", str(args.compare.resolve()))] if args.compare else [])
        for number in range(args.runs):
            for label, code in codes if number % 2 == 0 else reversed(codes):
                copy = root / "copy"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(base, copy)
                command = [sys.executable, __file__, "--one", str(copy), "--saves", str(args.saves)]
                command += ["--every", str(args.every)]
                env = {**os.environ, "PYTHONPATH": code}
                out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                print(json.dumps({"run": number, "label": label, "load": os.getloadavg()[0], **result}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
