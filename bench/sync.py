"""Sync benchmark: a real town server (uvicorn subprocess on 127.0.0.1) and real encrypted stores.

    .venv/bin/python bench/sync.py                       # 10,000 records, 3 empty-device pulls, 7 days of work
    .venv/bin/python bench/sync.py --records 2000 --pulls 2 --days 3 --naive 500
    .venv/bin/python bench/sync.py --links-only --link-days 5 --pouchdb /tmp/pouch   # the shaped links only

Measures, end to end with merge and durable encrypted store commits, and counting every byte on the wire (request
and status lines, headers and bodies as sent): pushing 10,000 new households and the pull after it, pulling them
into an empty device, a day's work (300 edits pushed, 300 records changed by a colleague pulled) and a sync with
nothing to do. Each step runs twice in the same minutes: "before", the wire as it was (bodies sent plain, the
device's own push pulled back: ``SyncAgent(compress=False, skip_own=False)``), and "after" (compressed both ways,
no echo). The households have varied text (names, addresses, phone numbers and notes that do not repeat). The
anchor is PouchDB's replication protocol for the same 10,000 records, emulated (see ``pouchdb_pull_bytes``).
``--naive N`` adds the naive baseline (one POST, one GET per record) for N records.
First, unless ``--link-days 0``, a day's work over shaped links through ``bench/shaper.py`` (unshaped; 64 kbit/s
with 400 ms round trips and 1% of connections cut; the same with every sync cut once), and with ``--pouchdb DIR``
(a folder where ``npm install pouchdb pouchdb-server`` ran) PouchDB's day's work through the same proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")  # unlocking is not what this measures

from bench.shaper import Link, Shaper
from field_agent.domain.envelope import view
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent, SyncResult, enroll
from server_stub.db import open_database
from server_stub.enrolment import issue_code
from server_stub.records import create_grid

PASSPHRASE = "benchmark passphrase of real strength 7"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉春梅海燕德福宁安康晓雪松林波斌"
STREETS = (
    "幸福",
    "龙江",
    "东门",
    "玉屏",
    "南湖",
    "青松",
    "光明",
    "和平",
    "新华",
    "人民",
    "建设",
    "文化",
    "滨江",
    "锦绣",
)
NOTE_PARTS = (
    "家中老人{age}岁，行动不便，需上门采样",
    "户主在{place}务工，{weekday}晚上{hour}点后在家",
    "联系人为其{kin}{name}，电话已登记",
    "有{count}名学龄儿童，在{place}上学",
    "{month}月{day}日已完成第{count}次入户排查",
    "租户{count}人，房东{name}住{street}小区",
    "患有{illness}，每月到社区卫生服务站取药",
    "{kin}在外地，平时由邻居{name}照看",
    "已加入网格微信群，通知可直接发群里",
    "门禁密码由物业保管，入户前先联系{name}",
    "家里养狗，上门前请先打电话",
    "{month}月{day}日起居家观察，{count}天后复查",
    "独居，{weekday}上午常去{place}",
    "新搬入，户籍仍在{street}街道",
)
KIN = ("女儿", "儿子", "儿媳", "女婿", "孙子", "侄女", "老伴", "外甥")
PLACES = ("菜市场", "工业园", "第二小学", "县医院", "老年活动中心", "镇政府", "物流园", "实验中学")
ILLNESS = ("高血压", "糖尿病", "冠心病", "慢阻肺", "关节炎")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def note(rng: random.Random) -> str:
    """Three to six facts about a household, each with its own names and numbers: notes that do not repeat."""
    facts = []
    for template in rng.sample(NOTE_PARTS, rng.randint(3, 6)):
        values = {
            "age": rng.randint(60, 96), "place": rng.choice(PLACES), "weekday": rng.choice(WEEKDAYS),
            "hour": rng.randint(6, 10), "kin": rng.choice(KIN), "name": person(rng), "count": rng.randint(1, 5),
            "month": rng.randint(1, 12), "day": rng.randint(1, 28), "street": rng.choice(STREETS),
            "illness": rng.choice(ILLNESS),
        }  # fmt: skip
        facts.append(template.format(**values))
    return "；".join(facts) + "。"


def household(n: int, rng: random.Random) -> dict[str, Any]:
    """A household as a grid worker records it, about 600 bytes as JSON (1.1 kB as the server sends it)."""
    building, unit, room = rng.randint(1, 40), rng.randint(1, 6), f"{rng.randint(1, 33)}{rng.randint(1, 4):02d}"
    street = rng.choice(STREETS)
    return {
        "building": str(building),
        "unit": str(unit),
        "room": room,
        "address": f"福清市{street}街道{rng.choice(STREETS)}社区{building}栋{unit}单元{room}室",
        "head": person(rng),
        "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
        "notes": note(rng),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``field-server serve`` in a subprocess, on its own core, with a grid for each way of syncing."""

    def __init__(self, directory: Path, devices: int, modes: tuple[str, ...] = ("before", "after", "naive")) -> None:
        self.directory = directory
        self.db_url = f"sqlite:///{directory / 'server.db'}"
        db = open_database(self.db_url)
        self.grids: dict[str, str] = {}
        self.codes: dict[str, list[str]] = {}
        for mode in modes:
            grid = create_grid(db, town="龙江街道", name=f"幸福社区{mode}网格")
            self.grids[mode] = grid
            self.codes[mode] = [
                issue_code(db, grid, f"{mode} {n}", "worker", 3_600_000)["code"] for n in range(devices)
            ]
        db.close()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [str(Path(sys.executable).with_name("field-server")), "--data-dir", str(directory), "serve",
                   "--db", self.db_url, "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"the server did not start: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Counting(httpx.AsyncBaseTransport):
    """A real HTTP transport counting the bytes of every request and answer as they travel (HTTP/1.1: request or
    status line, headers, body as sent, compressed or not)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent = 0
        self.received = 0

    @property
    def total(self) -> int:
        return self.sent + self.received

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        target = request.url.raw_path.decode()
        self.sent += len(f"{request.method} {target} HTTP/1.1\r\n") + _header_bytes(request.headers) + len(body)
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        await response.aclose()
        self.received += len(f"HTTP/1.1 {response.status_code} OK\r\n") + _header_bytes(response.headers) + len(raw)
        return httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _header_bytes(headers: httpx.Headers) -> int:
    return sum(len(name) + len(value) + 4 for name, value in headers.raw) + 2


MODES = {"before": {"compress": False, "skip_own": False}, "after": {}}


@dataclass
class Step:
    """One step's bytes and wall times, per mode."""

    name: str
    bytes: dict[str, list[int]] = field(default_factory=lambda: {"before": [], "after": []})
    seconds: dict[str, list[float]] = field(default_factory=lambda: {"before": [], "after": []})


async def measured(step: Step, mode: str, store: Store, *, pull: bool = True) -> SyncResult:
    """One sync of ``store`` the way ``mode`` syncs, its bytes and time added to ``step``."""
    wire = Counting()
    agent = SyncAgent(store, transport=wire, **MODES[mode])
    started = time.perf_counter()
    result = await agent.sync(pull=pull)
    step.seconds[mode].append(time.perf_counter() - started)
    step.bytes[mode].append(wire.total)
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    return result


async def device(server: Server, directory: Path, mode: str, name: str) -> Store:
    store = Store.create(directory / f"{mode}-{name}", PASSPHRASE)
    await enroll(store, server.url, server.codes[mode].pop(0), name)
    return store


def pouchdb_pull_bytes(envelopes: list[dict[str, Any]], batch: int = 100) -> int:
    """The bytes PouchDB's replication from a CouchDB-style server (pouchdb-server, which gzips its answers) moves
    for these records into an empty database: per batch of 100 (PouchDB's default), a ``_changes`` request and its
    answer (one long opaque ``seq`` per change) and a ``_bulk_get`` request and its answer (each document with its
    ``_id``, ``_rev`` and ``_revisions``), answers gzipped at level 6, requests plain, 300 bytes of headers each
    way; the checkpoint writes are left out. An emulation of the protocol's messages, not a run of PouchDB."""
    rng = random.Random(11)
    total = 0
    headers = 300
    for start in range(0, len(envelopes), batch):
        chunk = envelopes[start : start + batch]
        revs = [secrets.token_hex(16) for _ in chunk]
        seqs = [f"{start + n + 1}-g1AAAA{rng.randbytes(60).hex()[:96]}" for n in range(len(chunk))]
        changes = {
            "results": [{"seq": seq, "id": env["id"], "changes": [{"rev": f"1-{rev}"}]}
                        for seq, env, rev in zip(seqs, chunk, revs, strict=True)],
            "last_seq": seqs[-1],
        }  # fmt: skip
        request = {"docs": [{"id": env["id"], "rev": f"1-{rev}"} for env, rev in zip(chunk, revs, strict=True)]}
        docs = {
            "results": [
                {"id": env["id"], "docs": [{"ok": {"_id": env["id"], "_rev": f"1-{rev}", "kind": env["kind"],
                 **view(env), "_revisions": {"start": 1, "ids": [rev]}}}]}
                for env, rev in zip(chunk, revs, strict=True)
            ]
        }  # fmt: skip
        total += 4 * headers + 200  # two requests, two answers; the _changes request line
        total += len(gzip.compress(orjson.dumps(changes), 6))
        total += len(orjson.dumps(request)) + len(gzip.compress(orjson.dumps(docs), 6))
    return total


async def timed(call: Callable[[], Awaitable[SyncResult]]) -> tuple[float, SyncResult]:
    started = time.perf_counter()
    result = await call()
    elapsed = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    return elapsed, result


async def naive_push(store: Store, count: int, rng: random.Random) -> float:
    """The baseline: one POST (and one durable acknowledgement) per record."""
    with store.batch():
        for n in range(count):
            store.put("household", household(n, rng))
    agent = SyncAgent(store, batch_size=1)
    elapsed, result = await timed(lambda: agent.sync(pull=False))
    assert result.pushed == count
    return elapsed


async def naive_pull(store: Store, count: int) -> float:
    """The baseline: one GET per record."""
    agent = SyncAgent(store, page_size=1)
    elapsed, result = await timed(agent.sync)
    assert result.pulled >= count
    return elapsed


@dataclass
class Report:
    steps: list[Step]
    anchor: int
    naive: list[tuple[str, int, float]]
    loads: list[tuple[float, float, float]]


async def run(records: int, pulls: int, days: int, edits: int, naive: int, directory: Path) -> Report:
    server = Server(directory, devices=pulls + 4)
    push, echo = Step(f"push {records:,} new households"), Step("  then the pusher's pull")
    pull = Step(f"pull {records:,} records into an empty device")
    day = Step(f"a day's work: push {edits} edits, pull {edits} changed records")
    noop = Step("sync with nothing to do")
    loads = [os.getloadavg()]
    naive_rows: list[tuple[str, int, float]] = []
    stores: list[Store] = []
    try:
        writers, colleagues = {}, {}
        for mode in MODES:  # the same households (same seed) for both ways, each in its own grid
            writer = await device(server, directory, mode, "writer")
            colleague = await device(server, directory, mode, "colleague")
            writers[mode], colleagues[mode] = writer, colleague
            stores += [writer, colleague]
            await measured(Step(""), mode, writer)  # the grid record
            await measured(Step(""), mode, colleague)
            rng = random.Random(3)
            with writer.batch():
                for n in range(records):
                    writer.put("household", household(n, rng))
            result = await measured(push, mode, writer, pull=False)
            assert result.pushed == records, result
            await measured(echo, mode, writer)
        loads.append(os.getloadavg())
        anchor = pouchdb_pull_bytes(list(writers["after"].records("household")))

        for _ in range(pulls):  # alternating, so both ways meet the same load
            for mode in MODES:
                reader = await device(server, directory, mode, f"reader-{len(pull.bytes[mode])}")
                result = await measured(pull, mode, reader)
                assert result.pulled >= records, result
                reader.close()
        loads.append(os.getloadavg())

        ids = {mode: [envelope["id"] for envelope in writers[mode].records("household")] for mode in MODES}
        for mode in MODES:
            await measured(Step(""), mode, colleagues[mode])  # the colleague holds the grid before the days start
        for round_ in range(days):
            for mode in MODES:
                rng = random.Random(100 + round_)
                mine = ids[mode][round_ * 2 * edits : round_ * 2 * edits + edits]
                theirs = ids[mode][round_ * 2 * edits + edits : (round_ + 1) * 2 * edits]
                with colleagues[mode].batch():
                    for record_id in theirs:
                        colleagues[mode].put("household", {"notes": note(rng)}, record_id=record_id)
                await SyncAgent(colleagues[mode]).sync()
                with writers[mode].batch():
                    for record_id in mine:
                        writers[mode].put("household", {"notes": note(rng), "phone": household(0, rng)["phone"]},
                                          record_id=record_id)  # fmt: skip
                result = await measured(day, mode, writers[mode])
                assert result.pushed == edits and result.pulled == edits, result
                result = await measured(noop, mode, writers[mode])
                assert result.pushed == 0 and result.pulled == 0, result
        loads.append(os.getloadavg())

        if naive:
            rng = random.Random(5)
            baseline = await device(server, directory, "naive", "naive")
            naive_rows.append(
                (f"naive: one POST per record ({naive:,})", naive, await naive_push(baseline, naive, rng))
            )
            empty = await device(server, directory, "naive", "naive-reader")
            naive_rows.append((f"naive: one GET per record ({naive:,})", naive, await naive_pull(empty, naive)))
            stores += [baseline, empty]
    finally:
        for store in stores:
            store.close()
        server.stop()
    return Report([push, echo, pull, day, noop], anchor, naive_rows, loads)


LINKS = {
    "unshaped (loopback)": Link(),
    "64 kbit/s each way, 400 ms RTT, 1% of connections cut": Link(64_000, 0.4, cut_share=0.01),
    "64 kbit/s, 400 ms RTT, every sync cut once mid-transfer": Link(64_000, 0.4, cut_share=1.0, cut_within=50_000),
}


@dataclass
class LinkRow:
    """A day's work over one link: wall seconds, bytes through the proxy, retries and cuts, per day."""

    name: str
    seconds: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)


def _shaper(port: int, link: Link, rng: random.Random) -> Shaper:
    """``link.cut_share`` 1.0: one cut per sync, at a uniform byte below ``cut_within`` of all it moves (so it lands
    in PouchDB's many connections as in our few); else each connection cut with probability ``cut_share``."""
    if link.cut_share >= 1.0:
        return Shaper("127.0.0.1", port, link, plan=lambda _n: None, cut_at_total=rng.randrange(1, link.cut_within))
    return Shaper("127.0.0.1", port, link, seed=rng.randrange(2**32))


async def run_links(days: int, edits: int, directory: Path) -> tuple[list[LinkRow], list[tuple[float, float, float]]]:
    """A day's work (the writer pushes ``edits`` edits and pulls ``edits`` records a colleague changed) through the
    shaping proxy, ``days`` times over each link, with the agent's default retry policy (as a tablet runs it)."""
    modes = tuple(f"link{n}" for n in range(len(LINKS)))
    server = Server(directory, devices=2, modes=modes)
    rows, loads, stores = [LinkRow(name) for name in LINKS], [os.getloadavg()], []
    rng = random.Random(17)
    try:
        for mode, row, link in zip(modes, rows, LINKS.values(), strict=True):
            writer = await device(server, directory, mode, "writer")
            colleague = await device(server, directory, mode, "colleague")
            stores += [writer, colleague]
            with writer.batch():
                ids = [writer.put("household", household(n, rng))["id"] for n in range(2 * edits * days)]
            await SyncAgent(writer).sync()
            await SyncAgent(colleague).sync()
            for day in range(days):
                mine = ids[day * 2 * edits : day * 2 * edits + edits]
                theirs = ids[day * 2 * edits + edits : (day + 1) * 2 * edits]
                with colleague.batch():
                    for record_id in theirs:
                        colleague.put("household", {"notes": note(rng)}, record_id=record_id)
                await SyncAgent(colleague).sync()
                with writer.batch():
                    for record_id in mine:
                        writer.put("household", {"notes": note(rng), "phone": household(0, rng)["phone"]},
                                   record_id=record_id)  # fmt: skip
                proxy = _shaper(server.port, link, rng)
                url = await proxy.start()
                retries = 0

                def count(event: Any) -> None:
                    nonlocal retries
                    retries += event.phase == "retry"

                try:
                    started = time.perf_counter()
                    result = await SyncAgent(writer, server_url=url).sync(on_progress=count)
                    row.seconds.append(time.perf_counter() - started)
                finally:
                    await proxy.stop()
                if result.error or (result.pushed, result.pulled) != (edits, edits):
                    raise SystemExit(f"a day's work over {row.name} failed: {result}")
                row.bytes.append(proxy.total)
                row.retries.append(retries)
                row.cuts.append(len(proxy.fired))
            loads.append(os.getloadavg())
    finally:
        for store in stores:
            store.close()
        server.stop()
    return rows, loads


async def run_pouchdb(days: int, edits: int, directory: Path, npm_dir: Path) -> list[LinkRow]:
    """The same day's work with PouchDB (node, leveldb on disk) replicating with pouchdb-server (in memory) through
    the same proxy and links: ``bench/pouchdb_day.js``, with pouchdb and pouchdb-server installed by npm in
    ``npm_dir``."""
    script = Path(__file__).with_name("pouchdb_day.js")
    env = {**os.environ, "NODE_PATH": str(npm_dir / "node_modules")}
    port = free_port()
    home = directory / "pouchdb-server"
    home.mkdir()
    server = subprocess.Popen([str(npm_dir / "node_modules" / ".bin" / "pouchdb-server"), "--in-memory", "--port",
                               str(port)], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base, timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("pouchdb-server did not start")
        await asyncio.sleep(0.2)
    rows, rng = [LinkRow(name) for name in LINKS], random.Random(17)

    async def node(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "node", str(script), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode:
            raise SystemExit(f"pouchdb_day.js {args[0]} failed: {err.decode()[-2000:]}")
        return out.decode()

    try:
        for number, (row, link) in enumerate(zip(rows, LINKS.values(), strict=True)):
            database, local = f"{base}/day{number}", str(directory / f"pouchdb-local-{number}")
            httpx.put(database, timeout=10).raise_for_status()
            ids = [f"household-{n:05d}" for n in range(2 * edits * days)]
            docs = directory / f"pouchdb-docs-{number}.json"
            docs.write_bytes(orjson.dumps([{"_id": i, "kind": "household", **household(0, rng)} for i in ids]))
            await node("seed", local, database, str(docs))
            for day in range(days):
                mine = ids[day * 2 * edits : day * 2 * edits + edits]
                theirs = ids[day * 2 * edits + edits : (day + 1) * 2 * edits]
                changes = directory / f"pouchdb-day-{number}-{day}.json"
                changes.write_bytes(orjson.dumps({
                    "mine": [{"_id": i, "notes": note(rng), "phone": household(0, rng)["phone"]} for i in mine],
                    "theirs": [{"_id": i, "notes": note(rng)} for i in theirs],
                }))  # fmt: skip
                proxy = _shaper(port, link, rng)
                url = await proxy.start()
                try:
                    answer = orjson.loads(await node("day", local, database, f"{url}/day{number}", str(changes)))
                finally:
                    await proxy.stop()
                if (answer["pushed"], answer["pulled"]) != (edits, edits) and not answer["retries"]:
                    raise SystemExit(f"PouchDB's day's work over {row.name} moved {answer}")
                row.seconds.append(answer["seconds"])
                row.bytes.append(proxy.total)
                row.retries.append(answer["retries"])
                row.cuts.append(len(proxy.fired))
    finally:
        server.terminate()
        server.wait(10)
    return rows


def print_links(rows: list[LinkRow], pouchdb: list[LinkRow] | None, loads: list[tuple[float, float, float]]) -> None:
    load = ", ".join("/".join(f"{value:.1f}" for value in item) for item in loads)
    print(f"\nA day's work over a shaped link (bench/shaper.py), load average (1/5/15 min) at start and after each "
          f"link: {load}")  # fmt: skip
    print(f"{'who':<9} {'link':<56} {'s median/p95':>14} {'bytes median/p95':>20} {'retries':>8} {'cuts':>5} "
          f"{'runs':>5}")  # fmt: skip
    print("-" * 124)
    for who, group in (("ours", rows), ("PouchDB", pouchdb or [])):
        for row in group:
            seconds = f"{statistics.median(row.seconds):.2f}/{_p95(row.seconds):.2f}"
            sizes = f"{_kb(statistics.median(row.bytes))}/{_kb(_p95([float(b) for b in row.bytes]))}"
            print(f"{who:<9} {row.name:<56} {seconds:>14} {sizes:>20} {sum(row.retries):>8} {sum(row.cuts):>5} "
                  f"{len(row.seconds):>5}")  # fmt: skip
    if pouchdb is None:
        print("PouchDB: not measured (give --pouchdb DIR, a folder where `npm install pouchdb pouchdb-server` ran)")


def _kb(value: float) -> str:
    return f"{value / 1000:,.1f} kB" if value < 1_000_000 else f"{value / 1_000_000:,.2f} MB"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--pulls", type=int, default=3, help="pulls into an empty device, per way of syncing")
    parser.add_argument("--days", type=int, default=7, help="days of work, per way of syncing")
    parser.add_argument("--edits", type=int, default=300, help="edits pushed (and changed records pulled) per day")
    parser.add_argument("--naive", type=int, default=0, help="records for the naive baseline (default: none)")
    parser.add_argument("--link-days", type=int, default=10, help="days of work over each shaped link (0: none)")
    parser.add_argument("--links-only", action="store_true", help="only the day's work over the shaped links")
    parser.add_argument("--pouchdb", type=Path, help="a folder where `npm install pouchdb pouchdb-server` ran")
    args = parser.parse_args()
    if args.days * 2 * args.edits > args.records:
        parser.error("--records must hold 2 x --edits records per day")
    if args.link_days:
        with tempfile.TemporaryDirectory(prefix="field-sync-links-") as directory:
            rows, link_loads = asyncio.run(run_links(args.link_days, args.edits, Path(directory)))
            pouchdb = None
            if args.pouchdb:
                try:
                    pouchdb = asyncio.run(run_pouchdb(args.link_days, args.edits, Path(directory), args.pouchdb))
                except SystemExit as error:
                    print(f"PouchDB failed: {error}")
                link_loads.append(os.getloadavg())
        print_links(rows, pouchdb, link_loads)
    if args.links_only:
        return
    with tempfile.TemporaryDirectory(prefix="field-sync-bench-") as directory:
        report = asyncio.run(run(args.records, args.pulls, args.days, args.edits, args.naive, Path(directory)))
    loads = ", ".join("/".join(f"{value:.1f}" for value in load) for load in report.loads)
    print(f"\nSync benchmark — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, server: field-server (uvicorn, SQLite) on 127.0.0.1, "
          f"load average (1/5/15 min) at start and after each part: {loads}")  # fmt: skip
    print("before: bodies plain, own push pulled back; after: zstd both ways, no echo; bytes: median per sync")
    print(f"{'step':<56} {'before':>10} {'after':>10} {'after÷before':>12} {'before s med/p95':>17} "
          f"{'after s med/p95':>16} {'runs':>5}")  # fmt: skip
    print("-" * 132)
    for step in report.steps:
        before, after = statistics.median(step.bytes["before"]), statistics.median(step.bytes["after"])
        times = {mode: f"{statistics.median(step.seconds[mode]):.3f}/{_p95(step.seconds[mode]):.3f}" for mode in MODES}
        print(f"{step.name:<56} {_kb(before):>10} {_kb(after):>10} {after / before:>12.3f} {times['before']:>17} "
              f"{times['after']:>16} {len(step.bytes['after']):>5}")  # fmt: skip
    print(f"{'PouchDB replication of the same records (emulated, gzip)':<56} {'':>10} {_kb(report.anchor):>10}")
    for name, count, elapsed in report.naive:
        print(f"{name:<56} {elapsed:>10.3f} s  {count / elapsed:,.0f} records/s")


if __name__ == "__main__":
    main()
