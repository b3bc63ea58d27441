"""Benchmark the encrypted store against the stores a user would otherwise pick; prints tables.

    .venv/bin/python bench/store.py --sizes 1000,10000,50000

Side by side at each size, with the same varied resident records (bench/varied.py: names, addresses and notes
that do not repeat): our sealed log (TinyDB API with raw documents, and the full Store.put path: validation, HLC
stamps, outbox), TinyDB's default JSONStorage, TinyDB + CachingMiddleware (not durable), SQLCipher in WAL mode with
synchronous=FULL (one row per transaction; the anchor) and stdlib sqlite3 the same way (plaintext). Saves are
durable (fsynced) unless marked otherwise, timed round-robin so disk hiccups hit every store alike.

Memory is measured apart, one subprocess per row (so one store's objects never count against another): each
opens the files the timed run left, reports its resident set after open and its peak (VmRSS, VmHWM); the first row
is the interpreter with the same imports and nothing opened. SQLCipher's lazy open (connect, key, one indexed
query, nothing loaded) is a row of its own; so is the Store.put store before its sync (outbox full, as after an
import), next to the same store after it (the row without a mark: outbox acknowledged, log compacted). File
sizes are taken twice: before close (our outbox still full, SQLite's WAL not yet checkpointed) and after (outbox
acknowledged as by a sync, log compacted; WAL checkpointed).
Needs the ``bench`` extra for SQLCipher.

At 100,000 records, the memory table (issue 17, goal 2) with everything else kept short (under 2 minutes on two
cores; TinyDB's default storage rewrites its whole file on every save, so it gets --slow-samples saves only, and
--skip-default-above 50000 leaves it out altogether):

    .venv/bin/python bench/store.py --sizes 100000 --samples 50 --slow-samples 5 --lookups 50 --search 0 --sync-path ''

The code measured is this checkout's, or the one PYTHONPATH names (``cd OTHER && PYTHONPATH=$PWD python
/path/to/bench/store.py …`` measures OTHER with this script). bench/roster_memory.py measures a roster import and
the open of the store it leaves.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "default")
# The code measured is this checkout's, unless PYTHONPATH names another (``cd OTHER && PYTHONPATH=OTHER python
# /path/to/bench/store.py``: the "before" side of a change); this checkout then only supplies what PYTHONPATH lacks.
if any(p and (Path(p) / "field_agent").is_dir() for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)):
    sys.path.append(str(Path(__file__).resolve().parents[1]))
else:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import JSONStorage

from bench.varied import varied_records
from field_agent.domain.idnumber import make_id_number
from field_agent.store import Store
from field_agent.store.keys import read_header
from field_agent.store.opening import open_directory

PASSPHRASE = "benchmark passphrase of decent length"
RAW_KEY = "2dd29ca851e7b56e4697b0e1f08507293d761a05ce4d1b628663f411a8086d99"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
NOTE = "行动不便，需上门采样；家属联系电话已登记。"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰春梅海燕德福"


def make_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Resident-like records of ~700 bytes (as TinyDB's JSON writes them), three per household."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        household = f"00000000-0000-7000-8000-{number // 3:012d}"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        id_number = make_id_number("350181", date(1930 + number % 90, 1 + number % 12, 1 + number % 28), number % 500,
                                   "male" if number % 2 else "female")  # fmt: skip
        records.append(
            {
                "household": household,
                "name": name,
                "id_number": id_number,
                "phone": f"13{rng.randrange(10**9):09d}",
                "residency": "resident",
                "isolation_status": "none",
                "notes": NOTE * 3 + f"楼栋 {number // 60 + 1} 单元 {number % 6 + 1}",
            }
        )
    return records


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def stats(samples: list[float]) -> dict[str, Any]:
    """Median, p95 (nearest rank; with fewer than 21 samples it would be the maximum, so it is reported as None)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if len(ordered) > 20 else None
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def memory_now() -> tuple[float, float]:
    """(resident MB now, peak resident MB) of this process, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fa-bench-", dir=os.environ.get("BENCH_DIR")))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Backend:
    """One store under test: load, durable single saves, lookups, reopen, size."""

    name = ""
    slow = False  # sampled sparsely: each save costs seconds at 50k
    probe = ""  # the memory probe that opens this store's files (see ``probe_memory``)

    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self, records: list[dict[str, Any]]) -> None: ...
    def save(self, doc: dict[str, Any]) -> None: ...
    def by_household(self, household: str) -> Any: ...
    def by_name(self, name: str) -> Any: ...
    def close(self) -> None: ...
    def reopen(self) -> tuple[float, float]:  # (KDF ms, open+load ms)
        return 0.0, 0.0

    def size(self) -> int:
        return dir_size(self.root)


class OursRaw(Backend):
    """Our sealed storage through TinyDB's own API with the same raw documents as TinyDB (like for like)."""

    name = "ours: sealed log (TinyDB API)"
    probe = "ours"

    def load(self, records: list[dict[str, Any]]) -> None:
        self.store = Store.create(self.root / "store", PASSPHRASE, grid="bench")
        self.table = self.store.db.table("residents")
        with self.store.batch():
            self.table.insert_multiple(records)
        self.store.finish_compaction()  # the steady state, as for the Store row below

    def save(self, doc: dict[str, Any]) -> None:
        self.table.insert(doc)

    def by_household(self, household: str) -> Any:
        return None  # no secondary index at the raw TinyDB level: see the Store row

    def close(self) -> None:
        self.store.close()

    def reopen(self) -> tuple[float, float]:
        return measure_open(self.root / "store")


class OursStore(OursRaw):
    """The path the app uses: Store.put (validation, per-field HLC stamps, outbox) and repository indexes."""

    name = "ours: Store.put + indexes†"

    def load(self, records: list[dict[str, Any]]) -> None:
        self.store = Store.create(self.root / "store", PASSPHRASE, grid="bench")
        with self.store.batch():
            for record in records:
                self.store.put("resident", record)
        self.store.repos.residents.search("zs")  # build the pinyin search index outside the timings
        # the load's batch set off a compaction in the background: timed saves are the steady state, after it (saves
        # while one runs are bench/save_latency.py's)
        self.store.finish_compaction()

    def save(self, doc: dict[str, Any]) -> None:
        self.store.put("resident", doc)

    def by_household(self, household: str) -> Any:
        return self.store.repos.residents.by_household(household)

    def by_name(self, name: str) -> Any:
        return self.store.repos.residents.search(name)

    def close(self) -> None:
        self.store.close()
        # memory on open with every save still queued for sync (an import not yet synced), then the sync
        self.memory_full = probe_memory(self.probe, self.root)
        self.store = Store.open(self.root / "store", PASSPHRASE)
        while batch := self.store.next_batch(1000):  # as after a sync: outbox empty, log compacted
            self.store.ack_batch(batch[0], [{"record": c["record"], "status": "applied"} for c in batch[1]])
        self.store.compact()
        self.store.close()


class Tiny(Backend):
    name = "TinyDB JSONStorage (default)"
    slow = True
    probe = "tinydb"
    cached = False

    def storage(self) -> Any:
        return CachingMiddleware(JSONStorage) if self.cached else JSONStorage

    def load(self, records: list[dict[str, Any]]) -> None:
        self.db = TinyDB(self.root / "db.json", storage=self.storage())
        self.table = self.db.table("residents")
        self.table.insert_multiple(records)
        if self.cached:
            self.db.storage.flush()

    def save(self, doc: dict[str, Any]) -> None:
        self.table.insert(doc)

    def by_household(self, household: str) -> Any:
        self.table.clear_cache()
        return self.table.search(Query().household == household)

    def by_name(self, name: str) -> Any:
        self.table.clear_cache()
        return self.table.search(Query().name == name)

    def close(self) -> None:
        self.db.close()

    def reopen(self) -> tuple[float, float]:
        gc.collect()
        return 0.0, timed(lambda: len(TinyDB(self.root / "db.json", storage=self.storage()).table("residents")))


class TinyCached(Tiny):
    name = "TinyDB + CachingMiddleware*"
    slow = False
    cached = True


class SqlCipher(Backend):
    name = "SQLCipher 4, WAL, synchronous=FULL (anchor)"
    cipher = True
    probe = "sqlcipher"

    def connect(self) -> Any:
        if self.cipher:
            from sqlcipher3 import dbapi2 as driver
        else:
            driver = sqlite3
        connection = driver.connect(str(self.root / "db.sqlite"), isolation_level=None)
        if self.cipher:
            # A raw 256-bit key skips SQLCipher's PBKDF2, so open+load is timed without it; the KDF is timed apart.
            connection.execute(f"PRAGMA key = \"x'{RAW_KEY}'\"")
        return connection

    def load(self, records: list[dict[str, Any]]) -> None:
        self.db = self.connect()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE residents (id INTEGER PRIMARY KEY, household TEXT, name TEXT, doc TEXT)")
        self.db.execute("CREATE INDEX by_household ON residents(household)")
        self.db.execute("CREATE INDEX by_name ON residents(name)")
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO residents (household, name, doc) VALUES (?, ?, ?)",
                            [self.row(r) for r in records])  # fmt: skip
        self.db.execute("COMMIT")

    @staticmethod
    def row(doc: dict[str, Any]) -> tuple[str, str, str]:
        return doc["household"], doc["name"], json.dumps(doc, ensure_ascii=False)

    def save(self, doc: dict[str, Any]) -> None:
        self.db.execute("BEGIN")
        self.db.execute("INSERT INTO residents (household, name, doc) VALUES (?, ?, ?)", self.row(doc))
        self.db.execute("COMMIT")

    def by_household(self, household: str) -> Any:
        rows = self.db.execute("SELECT doc FROM residents WHERE household = ?", (household,))
        return [json.loads(doc) for (doc,) in rows]

    def by_name(self, name: str) -> Any:
        return [json.loads(doc) for (doc,) in self.db.execute("SELECT doc FROM residents WHERE name = ?", (name,))]

    def close(self) -> None:
        self.db.close()

    def reopen(self) -> tuple[float, float]:
        kdf_ms = 0.0
        if self.cipher:  # key derivation happens on the first statement: time it on an empty database
            from sqlcipher3 import dbapi2 as driver

            probe = driver.connect(str(self.root / "kdf.sqlite"))
            probe.execute(f"PRAGMA key = '{PASSPHRASE}'")
            probe.execute("CREATE TABLE t (x)")
            probe.close()
            probe = driver.connect(str(self.root / "kdf.sqlite"))
            probe.execute(f"PRAGMA key = '{PASSPHRASE}'")
            kdf_ms = timed(lambda: probe.execute("SELECT count(*) FROM t").fetchall())
            probe.close()
            (self.root / "kdf.sqlite").unlink()

        def open_and_load() -> None:
            again = self.connect()
            [json.loads(doc) for (doc,) in again.execute("SELECT doc FROM residents")]
            again.close()

        gc.collect()
        return kdf_ms, timed(open_and_load)


class SqliteWal(SqlCipher):
    name = "sqlite3, WAL, synchronous=FULL (plaintext)"
    cipher = False
    probe = "sqlite"


def measure_open(path: Path) -> tuple[float, float]:
    """(key derivation ms, open+load ms once the key is known)."""
    header = read_header(path / "store.header")
    keys: list[Any] = []
    kdf_ms = timed(lambda: keys.append((header, header.unwrap(PASSPHRASE))))
    gc.collect()
    opened: list[Store] = []
    open_ms = timed(lambda: opened.append(Store(open_directory(path, PASSPHRASE, unlocked=keys[0]))))
    opened[0].close()
    return kdf_ms, open_ms


def run_backends(backends: list[Backend], records: list[dict[str, Any]], fresh: list[dict[str, Any]],
                 slow_samples: int, lookups: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Saves interleaved round-robin in shuffled order, so disk hiccups hit every backend alike."""
    rng = random.Random(9)
    for backend in backends:
        print(f"  loading {backend.name} …", file=sys.stderr, flush=True)
        backend.load(records)
    saves: dict[str, list[float]] = {b.name: [] for b in backends}
    every = max(1, len(fresh) // max(1, slow_samples))
    for number, doc in enumerate(fresh):
        order = list(backends)
        rng.shuffle(order)
        for backend in order:
            if backend.slow and number % every:
                continue
            saves[backend.name].append(timed(lambda b=backend, d=dict(doc): b.save(d)))
    households = [r["household"] for r in records]
    names = [r["name"] for r in records]
    results = {}
    for backend in backends:
        print(f"  lookups and reopen: {backend.name} …", file=sys.stderr, flush=True)
        count = min(lookups, 5) if backend.slow and len(records) > 10_000 else lookups
        if backend.slow or isinstance(backend, TinyCached):
            count = min(count, 20)
        picks = [(rng.choice(households), rng.choice(names)) for _ in range(count)]
        by_household = [timed(lambda b=backend, h=h: b.by_household(h)) for h, _ in picks]
        by_name = [timed(lambda b=backend, n=n: b.by_name(n)) for _, n in picks]
        size_full = backend.size()  # our outbox still full; SQLite's WAL not yet checkpointed
        backend.close()
        kdf_ms, open_ms = backend.reopen()
        indexed = not isinstance(backend, OursRaw) or isinstance(backend, OursStore)
        results[backend.name] = {
            "save": stats(saves[backend.name]),
            "open": open_ms,
            "kdf": kdf_ms,
            "by_household": stats(by_household)["median"] if indexed else None,
            "by_name": stats(by_name)["median"] if indexed else None,
            "size_full": size_full,
            "size": backend.size(),
            "memory": probe_memory(backend.probe, backend.root) if backend.probe else {},
        }
        if isinstance(backend, OursStore):
            results[OURS_FULL] = {"memory": backend.memory_full}
        if isinstance(backend, SqlCipher) and backend.cipher:
            results[LAZY] = {"memory": probe_memory("sqlcipher-lazy", backend.root)}
    return results


LAZY = "SQLCipher 4, lazy open (first indexed query, nothing loaded)"
OURS_FULL = "ours: Store.put + indexes†, outbox full (not synced)"


def probe_memory(kind: str, root: Path) -> dict[str, float]:
    """Open one store's files in a subprocess of its own; its open time, RSS before and after open, and peak."""
    command = [sys.executable, __file__, "--probe", kind, str(root)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def run_probe(kind: str, root: Path) -> dict[str, float]:
    """In the subprocess: imports done, key derived (ours), peak reset; then open and answer one lookup."""
    household = make_household_probe()
    opened: list[Any] = []
    if kind == "ours":
        header = read_header(root / "store" / "store.header")
        data_key = header.unwrap(PASSPHRASE)
        assert data_key is not None
        keys = (header, data_key)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM: the peak from here on
    before, _peak = memory_now()
    start = time.perf_counter()
    if kind == "ours":
        store = Store(open_directory(root / "store", PASSPHRASE, unlocked=keys))
        store.repos.residents.by_household(household)
        opened.append(store)
    elif kind == "tinydb":
        opened.append(
            TinyDB(root / "db.json", storage=JSONStorage).table("residents").search(Query().household == household)
        )
    elif kind != "none":
        probe = SqlCipher(root) if kind.startswith("sqlcipher") else SqliteWal(root)
        connection = probe.connect()
        if kind != "sqlcipher-lazy":  # load every row, as ours and TinyDB do
            opened.append([json.loads(doc) for (doc,) in connection.execute("SELECT doc FROM residents")])
        opened.append(connection.execute("SELECT doc FROM residents WHERE household = ?", (household,)).fetchall())
    open_ms = (time.perf_counter() - start) * 1000
    after, peak = memory_now()
    return {"open_ms": open_ms, "rss_before": before, "rss_after": after, "peak": peak}


def make_household_probe() -> str:
    return f"00000000-0000-7000-8000-{1234:012d}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:,.1f}"


def fmt_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def run_size(size: int, samples: int, slow_samples: int, lookups: int, skip_default_above: int) -> None:
    records = varied_records(size)
    fresh = varied_records(samples, seed=size + 1)
    kinds: list[type[Backend]] = [OursRaw, OursStore, TinyCached, SqlCipher, SqliteWal]
    if size <= skip_default_above:
        kinds.insert(2, Tiny)
    with workdir() as root:
        backends = []
        for number, kind in enumerate(kinds):
            (root / str(number)).mkdir()
            backends.append(kind(root / str(number)))
        results = run_backends(backends, records, fresh, slow_samples, lookups)
        baseline = probe_memory("none", root)
    print(f"\n### {size:,} records (load average {os.getloadavg()[0]:.1f})\n")
    print("| store | saves | save median ms | save p95 ms | open+load ms | KDF ms | by household | by name | "
          "file, outbox full | file after sync |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "save" not in r:
            continue
        print(f"| {name} | {r['save']['n']} | {fmt_ms(r['save']['median'])} | {fmt_ms(r['save']['p95'])} | "
              f"{fmt_ms(r['open'])} | {fmt_ms(r['kdf'])} | {fmt_ms(r['by_household'])} | {fmt_ms(r['by_name'])} | "
              f"{fmt_size(r['size_full'])} | {fmt_size(r['size'])} |")  # fmt: skip
    print(
        "\nMemory, one subprocess per row (MB; the interpreter with the same imports and nothing open: "
        f"{baseline['rss_after']:.0f} MB). {OursStore.name} is opened after its sync (outbox acknowledged, log "
        "compacted); the row marked 'outbox full' is the same store before it; the raw TinyDB-API row queues "
        "nothing for sync.\n"
    )
    print("| store | open to first lookup ms | RSS after open | RSS added by open | peak during open "
          "| RSS after open ÷ anchor | peak ÷ anchor |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    seen = set()
    anchor_memory = results[SqlCipher.name]["memory"]
    for name, r in results.items():
        memory = r.get("memory")
        if not memory or (name, memory["peak"]) in seen:
            continue
        seen.add((name, memory["peak"]))
        print(f"| {name} | {fmt_ms(memory['open_ms'])} | {memory['rss_after']:.0f} | "
              f"{memory['rss_after'] - memory['rss_before']:.0f} | {memory['peak']:.0f} | "
              f"{memory['rss_after'] / anchor_memory['rss_after']:.2f}× | "
              f"{memory['peak'] / anchor_memory['peak']:.2f}× |")  # fmt: skip
    anchor = results[SqlCipher.name]
    print(f"\nAgainst the anchor, **{SqlCipher.name}** (ours ÷ anchor: < 1 means ours is faster / smaller):\n")
    print(
        "| ours | save median | save p95 | open+load (anchor loading every row) | file, outbox full | file after sync |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in (OursRaw.name, OursStore.name):
        r = results[name]
        p95 = "-" if r["save"]["p95"] is None or anchor["save"]["p95"] is None else (
            f"{r['save']['p95'] / anchor['save']['p95']:.2f}×")  # fmt: skip
        print(f"| {name} | {r['save']['median'] / anchor['save']['median']:.2f}× | "
              f"{p95} | {r['open'] / anchor['open']:.2f}× | "
              f"{r['size_full'] / anchor['size_full']:.2f}× | {r['size'] / anchor['size']:.2f}× |")  # fmt: skip


def bench_search(residents: int) -> None:
    """Household search as the terminal app calls it on every keystroke."""
    records = make_records(residents, seed=11)
    with workdir() as root:
        store = Store.create(root / "store", PASSPHRASE, grid="bench")
        with store.batch():
            for household in sorted({r["household"] for r in records}):
                number = int(household[-12:])
                store.put(
                    "household",
                    {
                        "address": f"幸福路 {number // 60 + 1} 栋 {number % 60 + 101} 室",
                        "building": f"{number // 60 + 1}栋",
                        "head": "户主",
                    },
                    record_id=household,
                )
            for record in records:
                store.put("resident", record)
        households = store.repos.households.count()
        build = timed(lambda: store.search_households("z"))
        print(f"\n### Household search, {residents:,} residents in {households:,} households\n")
        print(f"Search index built on first use in {build:,.0f} ms (pinyin of every name), then kept current.\n")
        print("| keystrokes | matches | median ms | p95 ms |")
        print("|---|---:|---:|---:|")
        sample = records[residents // 2]
        typed = [("z", "z"), ("zh", "zh"), ("zhang", "zhang"), ("initials", "zj"),
                 ("name", sample["name"]), ("surname", sample["name"][0]), ("phone tail", sample["phone"][-4:]),
                 ("address", "12 栋"), ("two terms", f"{sample['name'][0]} 12栋")]  # fmt: skip
        for label, query in typed:
            times = [timed(lambda q=query: store.search_households(q)) for _ in range(30)]
            result = stats(times)
            matches = len(store.search_households(query, limit=10**6))
            print(f"| {label} `{query}` | {matches:,} | {result['median']:.2f} | {result['p95']:.2f} |")
        store.close()


def bench_sync_path(sizes: list[int], repeats: int) -> None:
    """What the sync agent costs the store: freezing and settling push batches, applying pulled pages, reopening."""
    print(f"\n### Sync path: batches and pages of {SYNC_PAGE}, median of {repeats} runs\n")
    print("| records | next_batch total ms | per batch ms | ack_batch total ms | apply_pulled total ms "
          "| per page ms | open+load ms (pulled store) |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        records = make_records(size)
        runs: dict[str, list[float]] = {"next": [], "ack": [], "pull": [], "open": []}
        for _ in range(repeats):
            with workdir() as root:
                store = Store.create(root / "tablet", PASSPHRASE, grid="bench")
                with store.batch():
                    for record in records:
                        store.put("resident", record)
                frozen = settled = 0.0
                while True:
                    start = time.perf_counter()
                    batch = store.next_batch(SYNC_PAGE)
                    frozen += time.perf_counter() - start
                    if batch is None:
                        break
                    answers = [{"record": change["record"], "status": "applied"} for change in batch[1]]
                    settled += timed(lambda s=store, b=batch, a=answers: s.ack_batch(b[0], a)) / 1000
                envelopes = store.records("resident")
                store.close()
                device = Store.create(root / "device", PASSPHRASE, grid="bench")
                pulled = 0.0
                for first in range(0, size, SYNC_PAGE):
                    page = envelopes[first : first + SYNC_PAGE]
                    pulled += timed(lambda d=device, p=page, c=first + SYNC_PAGE: d.apply_pulled(p, c)) / 1000
                device.compact()
                device.close()
                runs["next"].append(frozen * 1000)
                runs["ack"].append(settled * 1000)
                runs["pull"].append(pulled * 1000)
                runs["open"].append(measure_open(root / "device")[1])
        median = {name: statistics.median(values) for name, values in runs.items()}
        pages = -(-size // SYNC_PAGE)
        print(f"| {size:,} | {fmt_ms(median['next'])} | {fmt_ms(median['next'] / pages)} | {fmt_ms(median['ack'])} | "
              f"{fmt_ms(median['pull'])} | {fmt_ms(median['pull'] / pages)} | {fmt_ms(median['open'])} |")  # fmt: skip


SYNC_PAGE = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated record counts (e.g. 1000,10000,50000)")
    parser.add_argument("--samples", type=int, default=200, help="timed saves per fast backend")
    parser.add_argument("--slow-samples", type=int, default=40, help="timed saves for TinyDB's default storage")
    parser.add_argument("--lookups", type=int, default=200, help="timed lookups per kind")
    parser.add_argument("--skip-default-above", type=int, default=10**9,
                        help="skip TinyDB's default storage above this size")  # fmt: skip
    parser.add_argument("--search", type=int, default=20_000, help="residents for the search benchmark (0: skip)")
    parser.add_argument("--sync-path", default="10000,50000", help="record counts for the sync-path table ('': skip)")
    parser.add_argument("--sync-repeats", type=int, default=3, help="runs per size of the sync-path table")
    parser.add_argument("--only-sync-path", action="store_true", help="print only the sync-path table")
    parser.add_argument("--probe", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(run_probe(args.probe[0], Path(args.probe[1]))))
        return
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; KDF profile {os.environ['FIELD_AGENT_KDF_PROFILE']}; code measured: "
          f"{Path(sys.modules[Store.__module__].__file__ or '?').parents[2]}")  # fmt: skip
    print("* CachingMiddleware saves are NOT durable (nothing reaches the disk until flush/close).")
    print("† Store.put: validation, HLC stamps per field, outbox entry (envelopes carry a stamp per field). 'file,")
    print("  outbox full': before close (every save still queued for sync; SQLite's WAL not checkpointed); 'after")
    print("  sync': outbox acknowledged and log compacted (SQLite: closed, WAL checkpointed). Open+load is measured")
    print("  after that (KDF timed apart); p95 is left out ('-') with 20 saves or fewer, where it would be the max.")
    sync_sizes = [int(s) for s in args.sync_path.split(",") if s]
    if args.only_sync_path:
        bench_sync_path(sync_sizes, args.sync_repeats)
        return
    for size in (int(s) for s in args.sizes.split(",") if s):
        run_size(size, args.samples, args.slow_samples, args.lookups, args.skip_default_above)
    if sync_sizes:
        bench_sync_path(sync_sizes, args.sync_repeats)
    if args.search:
        bench_search(args.search)


if __name__ == "__main__":
    main()
