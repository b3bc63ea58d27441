"""The soak itself: a town server, two grids of tablets, simulated days of rounds and nightly syncs, faults."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import FaultLog, SmallDisk
from .fleet import DeviceKilled, DeviceProcess, Slot
from .incidents import DeviceIncidents
from .ledger import DayChecks, Item, Ledger, check_day
from .proxy import FaultProxy
from .schedule import Schedule
from .server import PG_URL, TownServer
from .workload import morning_round

PASSPHRASE = "soak-test passphrase: 七天不断档"
DAY_MS = 86_400_000


@dataclass
class SoakConfig:
    days: int = 7
    devices: int = 20
    households: int = 24
    seed: int = 1
    db: str = "sqlite"
    workdir: Path = Path("/tmp/field-soak")
    cut_rate: float = 0.35
    night_syncs: int = 3
    full_disk: str = "tmpfs"
    conflicts_per_grid: int = 2
    verbose: bool = False


@dataclass
class SoakResult:
    config: SoakConfig
    days: list[DayChecks] = field(default_factory=list)
    faults: FaultLog = field(default_factory=FaultLog)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cuts_by_day: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.problems and all(day.clean for day in self.days)


class Soak(DeviceIncidents):
    """Runs one soak against one database backend."""

    def __init__(self, config: SoakConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.result = SoakResult(config, faults=FaultLog(echo=config.verbose))
        self.ledger = Ledger()
        self.slots: list[Slot] = []
        self.grids: list[str] = []
        self.schedule = Schedule(config.days)
        self.env = {**os.environ, "FIELD_AGENT_KDF_PROFILE": "test", "FIELD_AGENT_PASSPHRASE": PASSPHRASE}
        self.env.pop("FIELD_AGENT_STORE", None)
        self.workdir = config.workdir
        self.db_url = self._db_url()
        self.server = TownServer(self.db_url, self.workdir / "server", self.env)
        self.proxy = FaultProxy(self.server.port, random.Random(config.seed + 1))
        self.disk = SmallDisk(self.workdir / "small-disk")
        self.disk_slot: Slot | None = None
        self.used_for_conflicts: set[str] = set()
        self.day = 0

    def _db_url(self) -> str:
        if self.config.db == "postgres":
            return f"{PG_URL}?schema=soak_{os.getpid()}_{self.rng.randrange(10**6)}"
        return f"sqlite:///{self.workdir / 'server' / 'town.db'}"

    def log(self, kind: str, detail: str, phase: str = "") -> None:
        self.result.faults.add(self.day, phase, kind, detail)

    def say(self, text: str) -> None:
        if self.config.verbose:
            print(text, flush=True)

    # -- setup ----------------------------------------------------------------------------------------------------

    async def run(self) -> SoakResult:
        started = time.perf_counter()
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        try:
            await self._setup()
            for day in range(1, self.config.days + 1):
                self.day = day
                await self._simulate_day(day)
        except Exception as error:
            self.result.problems.append(f"day {self.day}: the soak stopped: {type(error).__name__}: {error}")
            if self.config.verbose:
                import traceback

                traceback.print_exc()
        finally:
            await self._teardown()
            self.result.seconds = time.perf_counter() - started
        return self.result

    async def _setup(self) -> None:
        config = self.config
        seeded = await asyncio.to_thread(
            self.server.admin, "seed-demo", "--grids", "2", "--households", str(config.households),
            "--seed", str(config.seed),
        )  # fmt: skip
        self.grids = list(seeded["grids"])
        await self.server.start()
        await self.proxy.start()
        self.url = f"http://127.0.0.1:{self.proxy.port}"
        server = await asyncio.to_thread(self.server.snapshot)
        self.ledger.seeded = {record_id for records in server.values() for record_id in records}
        if self.config.full_disk == "rlimit":
            self.result.notes.append("full disk: RLIMIT_FSIZE in the device process (asked for with --full-disk)")
        elif self.disk.mount():
            self.result.notes.append(f"full disk: a {self.disk.size} tmpfs mounted at {self.disk.mount_point}")
        else:
            self.result.notes.append(
                f"full disk: no tmpfs could be mounted ({self.disk.reason}); RLIMIT_FSIZE in the device process"
            )
        per_grid = [config.devices // 2 + config.devices % 2, config.devices // 2]
        for grid_index, grid in enumerate(self.grids):
            fields = server[grid][grid]["fields"]
            members = [member["name"] for member in fields.get("members") or []]
            for position in range(per_grid[grid_index]):
                if position == 0:
                    worker, role = fields["leader"], "leader"
                else:
                    pool = [name for name in members if name != fields["leader"]]
                    worker = pool[position - 1] if position - 1 < len(pool) else f"网格员{position}"
                    role = "worker"
                slot = Slot(len(self.slots), grid, grid_index, worker, role, self.workdir / "devices" / "x")
                slot.store_dir = self.workdir / "devices" / f"{slot.name}-0"
                self.slots.append(slot)
        self.schedule.assign(self.slots, self.rng)
        if self.schedule.disk_slot is not None and self.disk.mounted:
            self.disk_slot = self.schedule.disk_slot
            self.disk_slot.store_dir = self.disk.mount_point / "store"
        await asyncio.gather(*(self._enrol(slot) for slot in self.slots))
        await self._sync_all("setup", faults=False)
        if self.result.problems:
            raise RuntimeError("the tablets could not make their first sync; nothing else can be checked")

    async def _enrol(self, slot: Slot) -> None:
        code = await asyncio.to_thread(
            self.server.admin, "enroll-code", "--grid", slot.grid, "--worker", slot.worker, "--role", slot.role
        )
        await self._start_device(slot)
        answer = await slot.proc.call("enroll", url=self.url, code=code["code"], name=f"soak-{slot.name}")  # type: ignore[union-attr]
        slot.device_id = answer["device_id"]

    async def _start_device(self, slot: Slot) -> dict[str, Any]:
        slot.proc = DeviceProcess(slot, self.env, self._on_event)
        await slot.proc.spawn()
        opened = await slot.proc.call("open")
        slot.node = opened["node"]
        return opened

    def _on_event(self, slot: Slot, event: dict[str, Any]) -> None:
        self.ledger.event(slot.node, event)

    async def _teardown(self) -> None:
        for slot in self.slots:
            if slot.proc is not None:
                try:
                    await slot.proc.close()
                except Exception:
                    slot.proc.kill()
        await self.proxy.stop()
        await self.server.stop()
        self.disk.unmount()
        if self.config.db == "postgres":
            try:
                await asyncio.to_thread(self.server.drop_postgres_schema)
            except Exception as error:
                self.result.notes.append(f"could not drop the soak's PostgreSQL schema: {error}")

    # -- one day --------------------------------------------------------------------------------------------------

    async def _simulate_day(self, day: int) -> None:
        self.ledger.day = day
        self.say(f"day {day}: morning")
        await self._apply_clock_changes(day)
        await self._leader_morning(day)
        server = await asyncio.to_thread(self.server.snapshot)
        rounds: dict[str, list[Any]] = {}
        for grid in self.grids:
            workers = [(slot.name, slot.worker) for slot in self.slots if slot.grid == grid]
            rounds.update(
                morning_round(
                    day, server[grid], workers, self.rng, self.config.conflicts_per_grid, self.used_for_conflicts
                )
            )
        await asyncio.gather(*(self._round(slot, rounds[slot.name], day) for slot in self.slots))
        await self._wrong_grid(day)
        await self._leader_only(day)
        await self._evening_faults(day)
        self.say(f"day {day}: nightly sync")
        cuts_before = len(self.proxy.stats.cuts)
        await self._nightly(day)
        await self._replace_lost_tablets(day)
        self.say(f"day {day}: final sync and checks")
        await self._sync_all("final", faults=False)
        await self._sync_all("final", faults=False)
        self.result.cuts_by_day[day] = len(self.proxy.stats.cuts) - cuts_before
        for cut in self.proxy.stats.cuts[cuts_before:]:
            where = cut.request or "before the request line"
            self.log(
                "cut", f"connection {cut.connection} cut in the {cut.direction} at byte {cut.offset} ({where})", "night"
            )
        await self._check(day)

    async def _apply_clock_changes(self, day: int) -> None:
        for slot, offset_days in self.schedule.clock_changes.get(day, []):
            slot.clock_offset_ms = offset_days * DAY_MS
            assert slot.proc is not None
            await slot.proc.close()
            opened = await self._start_device(slot)
            probe = await slot.proc.call("clock")
            lead_h = (int(probe["stamp"][:15]) - probe["true_ms"]) / 3_600_000
            if offset_days > 0 and lead_h < offset_days * 24 - 0.1:
                self.result.problems.append(f"day {day}: {slot.name}'s clock was not moved ({lead_h:.1f} h ahead)")
            kind, detail = "clock", ""
            if self.schedule.beyond_bound.get(day) is slot:
                kind, detail = "clock-bound", "; beyond the server's 7-day bound, its edits must be refused"
            elif self.schedule.date_fixed.get(day) is slot:
                note = (opened.get("report") or {}).get("clock")
                if not note or abs(lead_h) > 1:
                    self.result.problems.append(
                        f"day {day}: {slot.name}'s date was set right but its clock runs {lead_h:+.1f} h "
                        f"(open said {note!r})"
                    )
                kind, detail = "clock-bound", f"; date set right, open said: {note}"
            self.log(
                kind,
                f"{slot.name} restarted with its wall clock {offset_days:+d} days off; "
                f"its stamps now run {lead_h:+.1f} h from true time{detail}",
                "morning",
            )

    async def _leader_morning(self, day: int) -> None:
        for slot in self.slots:
            if slot.role != "leader":
                continue
            assert slot.proc is not None
            await slot.proc.call("resolve", key=f"d{day}/{slot.name}/resolve")
            mode = self.schedule.mode_switches.get(day)
            if mode:
                await slot.proc.call("switch_mode", key=f"d{day}/{slot.name}/mode", mode=mode)
                self.log("mode", f"{slot.name} (leader) switched grid {slot.grid_index} to {mode}", "morning")

    def _plan(self, slot: Slot, day: int, items: list[Any]) -> list[dict[str, Any]]:
        payloads = []
        expect = "refused:stamp_in_future" if self.schedule.beyond_bound.get(day) is slot else "server"
        for number, item in enumerate(items):
            key = f"d{day}/{slot.name}/{slot.generation}/{number}"
            self.ledger.plan(Item(key, slot.node, day, item.create, item.conflict_group, expect=expect))
            payloads.append({**item.payload, "key": key})
        return payloads

    async def _round(self, slot: Slot, items: list[Any], day: int) -> None:
        assert slot.proc is not None
        payloads = self._plan(slot, day, items)
        if slot is self.schedule.save_killed.get(day):
            safe = [p for p, item in zip(payloads, items, strict=True) if item.conflict_group]
            risky = [p for p in payloads if p not in safe]
            await slot.proc.call("edits", items=safe)
            await self._kill_mid_save(slot, risky)
            return
        if slot is self.schedule.disk_full.get(day):
            await self._full_disk(slot, payloads)
            return
        await slot.proc.call("edits", items=payloads)

    # -- night ----------------------------------------------------------------------------------------------------

    async def _nightly(self, day: int) -> None:
        lost = self.schedule.revoked.get(day)
        if lost is not None:
            for item in self.ledger.items.values():
                if item.node == lost.node and item.day == day:
                    item.expect = "lost"
            await asyncio.to_thread(self.server.admin, "device revoke", lost.device_id, "--reason", "tablet lost")
            self.log(
                "revoke", f"{lost.name}: tablet lost; device {lost.device_id} revoked before its nightly sync", "night"
            )
        self.proxy.cut_rate = self.config.cut_rate
        kills: list[asyncio.Task[None]] = []

        def on_push() -> None:
            if not kills:
                kills.append(asyncio.get_running_loop().create_task(self._kill_server_soon()))

        self.proxy.on_push = on_push
        victim = self.schedule.sync_killed.get(day)
        await asyncio.gather(*(self._night_sync(slot, slot is victim, slot is lost) for slot in self.slots))
        self.proxy.on_push = None
        self.proxy.cut_rate = 0.0
        await asyncio.gather(*kills)  # the server is back up before the final sync
        if not kills:
            self.result.problems.append(f"day {day}: no push reached the server at night, so it was never killed")
        await self.server.wait_healthy()
        if lost is not None:
            await self._check_revoked(lost)

    async def _kill_server_soon(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.0, 0.03))
        if self.server.kill():
            self.log("server-kill", "town server SIGKILLed while a push was arriving", "night")
            await asyncio.sleep(0.5)
            await self.server.restart()
            self.log("server-restart", f"town server back after restart {self.server.restarts}", "night")

    async def _night_sync(self, slot: Slot, kill: bool, lost: bool) -> None:
        assert slot.proc is not None
        await asyncio.sleep(self.rng.uniform(0.0, 1.5))
        if kill:
            call = asyncio.create_task(slot.proc.call("sync"))
            await asyncio.sleep(self.rng.uniform(0.02, 0.4))
            slot.proc.kill()
            try:
                result = await call
                self.log(
                    "kill-sync", f"{slot.name}: sync finished before the kill ({result.get('error_kind')})", "night"
                )
            except DeviceKilled:
                self.log("kill-sync", f"{slot.name}: SIGKILLed in the middle of its sync", "night")
            await slot.proc.wait()
            await self._start_device(slot)
            dump = await slot.proc.call("dump")
            self._check_local(slot, {env["id"]: env for env in dump["records"]})
            return
        result = await slot.proc.call("sync")
        for _ in range(self.config.night_syncs - 1):
            if lost:
                break
            await asyncio.sleep(self.rng.uniform(0.0, 0.5))
            await slot.proc.call("sync")  # the nightly daemon syncs again while the window is open
        if lost and result.get("error_kind") not in ("auth", "offline"):
            self.result.problems.append(f"day {self.day}: revoked {slot.name} synced: {result}")

    async def _check_revoked(self, slot: Slot) -> None:
        """Once the night's cuts are over and the server is up, the revoked tablet must be refused, never served.

        During the window its sync may only be refused or fail to connect (a cut, the server being killed): which
        of the two depends on how fast the server restarts on a loaded machine, so the verdict waits for this
        quiet moment instead of racing the restart.
        """
        assert slot.proc is not None
        result = await slot.proc.call("sync", attempts=3)
        if result.get("error_kind") != "auth":
            self.result.problems.append(f"day {self.day}: revoked {slot.name} synced: {result}")
        else:
            self.log("revoke", f"{slot.name}: the revoked tablet's sync was refused ({result['error']})", "night")

    async def _replace_lost_tablets(self, day: int) -> None:
        slot = self.schedule.revoked.get(day)
        if slot is None:
            return
        assert slot.proc is not None
        await slot.proc.close()
        slot.retired.append(slot.node)
        self.ledger.retire(slot.node)
        slot.generation += 1
        slot.store_dir = self.workdir / "devices" / f"{slot.name}-{slot.generation}"
        await self._enrol(slot)
        self.log("replace", f"{slot.name}: a new tablet (node {slot.node}) enrolled for {slot.worker}", "night")

    async def _sync_all(self, phase: str, faults: bool) -> None:
        del faults
        results = await asyncio.gather(*(slot.proc.call("sync") for slot in self.slots if slot.proc is not None))
        for slot, result in zip(self.slots, results, strict=True):
            if result.get("error"):
                self.result.problems.append(f"day {self.day} {phase} sync of {slot.name}: {result['error']}")

    async def _check(self, day: int) -> None:
        server = await asyncio.to_thread(self.server.snapshot)
        dumps = {}
        for slot in self.slots:
            assert slot.proc is not None
            dumps[slot.name] = await slot.proc.call("dump")
        checks = check_day(day, self.ledger, server, dumps)
        want = self.schedule.mode_on(day)
        for grid in self.grids:
            mode = server[grid][grid]["fields"].get("mode")
            if mode != want:
                checks.conflict_problems.append(f"grid {grid} is in {mode} mode, the leader left it in {want}")
        self.result.days.append(checks)
        for problem in checks.problems[:20]:
            self.say(f"  PROBLEM: {problem}")
