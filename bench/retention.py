"""A month of one grid on a tablet, with the town's retention window and without it (issue 17, goal 1).

The grid: 15,000 residents in 5,000 households. Every day a sampling round opens (and yesterday's closes), every
resident is sampled once (15,000 samplings a day), 810 households are visited, the residents in home isolation
(30 start each day, for 7 days) get a follow-up each, and 10 tasks are done: over 30 days ≥ 500,000 records are
made in the grid. Each night the tablet syncs: the day's records arrive as pulled, acknowledged pages of 500, built
as the server sends them (each record's latest version, stamped by the server-side clocks of the day, applied with
``Store.apply_pulled``; no HTTP, so that the month runs in minutes), then ``Store.retire`` runs as the sync agent
runs it after a complete pull. The same pages go, in the same run, to an anchor tablet with retention off.

At the chosen days each store is closed and opened in a fresh subprocess, as the app unlocks: the key is derived
first (not timed), then the peak is reset (``/proc/self/clear_refs``) and the open plus Today's numbers
(``field_agent.tui.queries.today.today_summary``, as the app computes them on unlock) are timed; RSS after and the
peak (VmRSS / VmHWM) are read from ``/proc/self/status``.

    python bench/retention.py [--days 30] [--window 3] [--residents 15000] [--anchor-days 30] [--measure 10,20,30]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.store import dir_size, memory_now, workdir
from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.idnumber import make_id_number
from field_agent.store import Store

PASSPHRASE = "bench retention passphrase 2026"
ZONE = ZoneInfo("Asia/Shanghai")
GRID = "0193a1b2-0000-7000-8000-00000000a000"
PAGE = 500
SERVER_NODE = "5e5e5e5e5e5e"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰建国淑珍海燕志强凤英红梅德胜"
MUTABLE = frozenset({"grid", "household", "resident", "sampling_round"})
OUTCOMES = ("met", "met", "met", "nobody_home")


def rid(prefix: int, number: int) -> str:
    return f"0193a1b2-{prefix:04x}-7000-8000-{number:012d}"


@dataclass
class Grid:
    """The server's side: the latest version of every record, and what changed since the last pull."""

    residents: int
    households: int
    start: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(17))
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, None] = field(default_factory=dict)  # ids, in order of their (last) change
    made: int = 0
    at_ms: int = 0
    isolated: dict[str, int] = field(default_factory=dict)  # resident id -> day its isolation ends

    def __post_init__(self) -> None:
        self.clock = HybridClock(SERVER_NODE, now_ms=lambda: self.at_ms)

    def write(self, record_id: str, kind: str, values: dict[str, Any], when: datetime) -> None:
        self.at_ms = int(when.timestamp() * 1000)
        current = self.records.get(record_id)
        envelope, _ = local_edit(current, self.clock, record_id=record_id, kind=kind, grid=GRID, values=values)
        if current is None:
            self.made += 1
        self.records[record_id] = envelope
        self.changed.pop(record_id, None)
        self.changed[record_id] = None

    def pull(self) -> Iterator[list[dict[str, Any]]]:
        """The changes since the last pull, as pages of the records' latest versions (as the server sends them)."""
        ids, self.changed = list(self.changed), {}
        for first in range(0, len(ids), PAGE):
            page = [self.records[record_id] for record_id in ids[first : first + PAGE]]
            for envelope in page:  # written once: the bench need not keep them (the server would)
                if envelope["kind"] not in MUTABLE:
                    del self.records[envelope["id"]]
            yield page

    def roster(self) -> None:
        when = self.start - timedelta(days=1)
        values = {"town": "玉屏街道", "community": "东门社区", "name": "第1网格", "mode": "normal"}
        self.write(GRID, "grid", values, when)
        rng = self.rng
        for number in range(self.households):
            self.write(
                rid(1, number),
                "household",
                {"building": str(number // 40 + 1), "room": str(number % 40 + 101),
                 "address": f"东门社区{number // 40 + 1}栋{number % 40 + 101}室", "head": self.name()},
                when,
            )  # fmt: skip
        for number in range(self.residents):
            born = date(1940 + rng.randrange(80), 1 + rng.randrange(12), 1 + rng.randrange(28))
            self.write(
                rid(2, number),
                "resident",
                {"household": rid(1, number % self.households), "name": self.name(),
                 "id_number": make_id_number("350181", born, number % 500, "male" if number % 2 else "female"),
                 "residency": "resident", "isolation_status": "none"},
                when,
            )  # fmt: skip

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randrange(1, 3)))

    def day(self, number: int) -> None:
        """One day's work in the grid, in time order."""
        rng = self.rng
        morning = self.start + timedelta(days=number, hours=7, minutes=59)
        if number:
            self.write(rid(3, number - 1), "sampling_round", {"status": "closed"}, morning)
        self.write(
            rid(3, number), "sampling_round",
            {"name": f"第{number + 1}轮", "started_at": (morning + timedelta(minutes=1)).isoformat(), "status": "open"},
            morning,
        )  # fmt: skip
        for resident, ends in list(self.isolated.items()):
            if ends == number:
                self.write(resident, "resident", {"isolation_status": "ended"}, morning)
                del self.isolated[resident]
        for _ in range(30):
            resident = rid(2, rng.randrange(self.residents))
            if resident not in self.isolated:
                self.isolated[resident] = number + 7
                start = morning.date().isoformat()
                values = {"isolation_status": "home", "isolation_start": start, "isolation_days": 7}
                self.write(resident, "resident", values, morning)
        day_ms = 10 * 3600 * 1000
        for number_ in range(self.residents):
            when = morning + timedelta(minutes=1, milliseconds=day_ms * number_ // self.residents)
            self.write(
                rid(4, number * 1_000_000 + number_), "sampling",
                {"round": rid(3, number), "resident": rid(2, number_), "household": rid(1, number_ % self.households),
                 "status": "sampled", "sampled_at": when.isoformat(timespec="seconds"), "by": "采样二队",
                 "team": "二队"},
                when,
            )  # fmt: skip
        evening = morning + timedelta(hours=11)
        for visit in range(810):
            when = evening + timedelta(seconds=visit)
            self.write(
                rid(5, number * 10_000 + visit), "visit",
                {"household": rid(1, rng.randrange(self.households)), "visited_at": when.isoformat(timespec="seconds"),
                 "worker": "林芳", "outcome": rng.choice(OUTCOMES), "notes": f"入户走访，{self.name()}在家"},
                when,
            )  # fmt: skip
        for index, resident in enumerate(self.isolated):
            when = evening + timedelta(minutes=20, seconds=index)
            self.write(
                rid(6, number * 10_000 + index), "followup",
                {"resident": resident, "date": when.date().isoformat(), "contact_made": True,
                 "temperature": round(36.2 + rng.random(), 1), "by": "林芳"},
                when,
            )  # fmt: skip
        for task in range(10):
            when = evening + timedelta(minutes=40, seconds=task)
            self.write(
                rid(7, number * 100 + task), "task",
                {"title": f"发放物资第{task + 1}批", "task_kind": "publicity", "role": "publicity", "status": "done"},
                when,
            )  # fmt: skip


def probe(store_dir: Path, today: str, now_ms: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--probe", str(store_dir), today, str(now_ms)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def run_probe(store_dir: Path, today: str, now_ms: int) -> dict[str, float]:
    """In the subprocess: imports done and key derived (not timed), peak reset; then open and compute Today."""
    from field_agent.store.keys import read_header
    from field_agent.store.opening import open_directory
    from field_agent.tui.queries.today import today_summary

    header = read_header(store_dir / "store.header")
    data_key = header.unwrap(PASSPHRASE)
    assert data_key is not None
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM: the peak from here on
    before, _ = memory_now()
    start = time.perf_counter()
    store = Store(open_directory(store_dir, PASSPHRASE, unlocked=(header, data_key)))
    last = store.meta_get("last_sync")
    summary = today_summary(
        store.reader,
        date.fromisoformat(today),
        datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(ZONE),
        "林芳",
        {"pending": store.pending_count(), "conflicts": len(store.open_conflicts()), "last_sync": last},
    )
    open_ms = (time.perf_counter() - start) * 1000
    after, peak = memory_now()
    held = len(store.reader.stored())
    store.close()
    return {
        "open_ms": open_ms,
        "rss_before": before,
        "rss_after": after,
        "peak": peak,
        "held": held,
        "households": summary.households_total,
        "sampling_eligible": summary.sampling_eligible,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--window", type=int, default=3, help="the town's retention window for tablets, days")
    parser.add_argument("--residents", type=int, default=15_000)
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--anchor-days", type=int, default=30, help="feed the retention-off anchor this many days")
    parser.add_argument("--measure", default="10,20,30", help="days after which both stores are probed")
    parser.add_argument("--probes", type=int, default=3, help="fresh processes per store and day (median, max)")
    args = parser.parse_args()
    measure = {int(day) for day in args.measure.split(",")}
    os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")
    start = datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=args.days + 1)
    grid = Grid(args.residents, args.households, start)
    rows: list[dict[str, Any]] = []
    with workdir() as root:
        paths = {"retention": root / "retention", "anchor": root / "anchor"}
        stores = {name: Store.create(path, PASSPHRASE, grid=GRID) for name, path in paths.items()}
        cursor = 0
        grid.roster()
        sync_s = {"retention": 0.0, "anchor": 0.0}
        for day in range(args.days + 1):  # day 0: the roster's first sync, then one day's work per day
            if day:
                grid.day(day - 1)
            night = start + timedelta(days=max(day - 1, 0), hours=22)
            now_ms = int(night.timestamp() * 1000)
            for page in grid.pull():
                cursor += 1
                for name, store in stores.items():
                    if name == "anchor" and day > args.anchor_days:
                        continue
                    began = time.perf_counter()
                    store.apply_pulled(page, cursor)
                    sync_s[name] += time.perf_counter() - began
            began = time.perf_counter()
            retired = stores["retention"].retire(now_ms, args.window)
            sync_s["retention"] += time.perf_counter() - began
            print(
                f"day {day}: made {grid.made:,}, retention holds {len(stores['retention'].reader.stored()):,} "
                f"(retired {retired.total:,}), load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
            if day in measure:
                for name, path in paths.items():
                    if name == "anchor" and day > args.anchor_days:
                        continue
                    stores[name].close()
                    probes = [probe(path, night.date().isoformat(), now_ms) for _ in range(args.probes)]
                    opens = sorted(result["open_ms"] for result in probes)
                    rows.append(
                        {"day": day, "store": name, "made": grid.made, "log": dir_size(path / "store.log"),
                         "load": os.getloadavg()[0], **probes[0], "open_ms": statistics.median(opens),
                         "open_max": opens[-1], "rss_after": statistics.median(p["rss_after"] for p in probes),
                         "peak": max(p["peak"] for p in probes)}
                    )  # fmt: skip
                    stores[name] = Store.open(path, PASSPHRASE)
        for store in stores.values():
            store.close()
    print_table(rows, args)


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(
        f"\n### A month of a grid on the tablet ({args.residents:,} residents, {args.households:,} households, "
        f"window {args.window} days; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"{datetime.now(UTC).date().isoformat()})\n"
    )
    print(
        f"| day | tablet | records made | records held | log MB | open → Today ms, median of {args.probes} | max | "
        "RSS after open MB | peak MB | load | open ÷ anchor | RSS ÷ anchor |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    anchors = {row["day"]: row for row in rows if row["store"] == "anchor"}
    for row in rows:
        anchor = anchors.get(row["day"])
        ratio_open = ratio_rss = "-"
        if anchor is not None and row["store"] != "anchor":
            ratio_open = f"{row['open_ms'] / anchor['open_ms']:.2f}"
            ratio_rss = f"{row['rss_after'] / anchor['rss_after']:.2f}"
        label = f"retention {args.window} d" if row["store"] == "retention" else "**anchor: retention off**"
        print(
            f"| {row['day']} | {label} | {row['made']:,} | {row['held']:,} | {row['log'] / 1e6:.1f} | "
            f"{row['open_ms']:,.0f} | {row['open_max']:,.0f} | {row['rss_after']:,.0f} | {row['peak']:,.0f} | "
            f"{row['load']:.1f} | "
            f"{ratio_open} | {ratio_rss} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--probe":
        print(json.dumps(run_probe(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))))
    else:
        main()
