"""What happens to single tablets during a day: killed mid-save, a full disk, a torn or forged frame appended to the
store, a save to the wrong grid, a worker's leader-only change. Mixed into the Soak, whose state (ledger, fault log,
processes) it uses."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from typing import Any

from .faults import SmallDisk, append_forged_frame, append_torn_frame, marker_covers
from .fleet import DeviceFailed, DeviceKilled, DeviceProcess, Slot
from .ledger import Item, Ledger
from .schedule import Schedule
from .server import TownServer


class DeviceIncidents:
    """The per-tablet faults of the soak."""

    ledger: Ledger
    rng: random.Random
    disk: SmallDisk
    server: TownServer
    schedule: Schedule
    env: dict[str, str]
    grids: list[str]
    day: int
    result: Any

    def log(self, kind: str, detail: str, phase: str = "") -> None:
        raise NotImplementedError

    def _on_event(self, slot: Slot, event: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _start_device(self, slot: Slot) -> dict[str, Any]:
        raise NotImplementedError

    async def _kill_mid_save(self, slot: Slot, payloads: list[dict[str, Any]]) -> None:
        assert slot.proc is not None
        call = asyncio.create_task(slot.proc.call("edits", items=payloads, pace_ms=8))
        await asyncio.sleep(self.rng.uniform(0.01, 0.01 + 0.009 * len(payloads)))
        slot.proc.kill()
        try:
            await call
            self.log("kill-save", f"{slot.name}: SIGKILLed just after its round of {len(payloads)} saves", "rounds")
        except DeviceKilled:
            acked = sum(1 for p in payloads if self.ledger.items[p["key"]].ack is not None)
            self.log("kill-save", f"{slot.name} SIGKILLed after {acked} of {len(payloads)} saves returned", "rounds")
        await slot.proc.wait()
        await self._start_device(slot)
        await self._redo_unfinished(slot, payloads)

    async def _redo_unfinished(self, slot: Slot, payloads: list[dict[str, Any]]) -> None:
        """The worker reopens the app and enters again what is not there (never what is)."""
        assert slot.proc is not None
        dump = await slot.proc.call("dump")
        local = {env["id"]: env for env in dump["records"]}
        self._check_local(slot, local)
        again = []
        for payload in payloads:
            item = self.ledger.items[payload["key"]]
            if item.ack is not None:
                continue
            if item.create and any(record_id in local for record_id in item.attempted):
                continue  # saved, only the acknowledgement was lost with the process
            if not item.create:
                env = local.get(payload["record"], {"fields": {}, "sets": {}})
                values_there = all(env["fields"].get(k) == v for k, v in payload.get("values", {}).items())
                if values_there and not payload.get("sets"):
                    continue
            again.append(payload)
        if again:
            await slot.proc.call("edits", items=again)

    def _check_local(self, slot: Slot, local: dict[str, dict[str, Any]]) -> None:
        for item in self.ledger.acked_on(slot.node):
            assert item.ack is not None
            if item.expect.startswith("refused:"):
                continue  # once the server refuses it, the tablet rolls it back (store/rollback.py)
            env = local.get(item.ack["record"])
            lost = env is None or any(env["stamps"].get(n, "") < s for n, s in item.ack["stamps"].items())
            if lost:
                self.result.problems.append(f"day {self.day}: {slot.name} lost acknowledged save {item.key} on reopen")

    async def _full_disk(self, slot: Slot, payloads: list[dict[str, Any]]) -> None:
        """The tablet's disk fills up: every save must fail cleanly (or fit in the last free bytes), a sync must
        not lose its batch, and once space is back the worker enters again what failed."""
        assert slot.proc is not None
        on_small_disk = self.disk.mounted and slot.store_dir.is_relative_to(self.disk.mount_point)
        if on_small_disk:
            filled = self.disk.fill()
            how = f"tmpfs filled ({filled} bytes of filler)"
        else:
            size = (slot.store_dir / "store.log").stat().st_size
            await slot.proc.call("fsize_limit", bytes=size)
            how = f"file size limit {size} bytes"
        await slot.proc.call("edits", items=payloads)
        failed = [p for p in payloads if self.ledger.items[p["key"]].ack is None]
        try:
            sync = await slot.proc.call("sync", budget_s=10)
            sync_outcome = f"sync on the full disk: {sync.get('error') or 'ok'}"
        except DeviceFailed as error:
            sync_outcome = f"sync on the full disk raised {error.error}: {error.message}"
        self.log(
            "disk-full", f"{slot.name}: {how}; {len(failed)} of {len(payloads)} saves refused; {sync_outcome}", "rounds"
        )
        if on_small_disk:
            self.disk.free()
        else:
            await slot.proc.call("fsize_limit", bytes=-1)
        try:
            await slot.proc.call("edits", items=failed)
        except DeviceFailed as error:
            self.result.problems.append(f"day {self.day}: {slot.name} could not save after space came back: {error}")
        still = [p for p in failed if self.ledger.items[p["key"]].ack is None]
        if still:
            self.log("disk-full", f"{slot.name}: {len(still)} saves still failing once space came back; reopening")
            await slot.proc.close()
            await self._start_device(slot)
            await slot.proc.call("edits", items=still)

    async def _wrong_grid(self, day: int) -> None:
        slot = self.schedule.wrong_grid.get(day)
        if slot is None or slot.proc is None:
            return
        other = next(grid for grid in self.grids if grid != slot.grid)
        key = f"d{day}/{slot.name}/wrong-grid"
        item = Item(key, slot.node, day, create=True, expect="refused:wrong_grid")
        self.ledger.plan(item)
        server = await asyncio.to_thread(self.server.snapshot)
        household = next(env for env in server[other].values() if env["kind"] == "household")
        values = {
            "household": household["id"],
            "visited_at": "2026-12-01T09:00:00+08:00",
            "worker": slot.worker,
            "outcome": "met",
        }
        await slot.proc.call("edits", items=[{"key": key, "kind": "visit", "grid": other, "values": values}])
        self.log("wrong-grid", f"{slot.name} saved a visit to a household of the other grid", "rounds")

    async def _leader_only(self, day: int) -> None:
        """A worker's tablet changes what only the leader may (the mode, or the members' roles): the server must
        refuse it as ``leader_only`` and the tablet must roll it back."""
        planned = self.schedule.leader_only.get(day)
        if planned is None or planned[0].proc is None:
            return
        slot, what = planned
        server = await asyncio.to_thread(self.server.snapshot)
        fields = server[slot.grid][slot.grid]["fields"]
        if what == "mode":
            values: dict[str, Any] = {"mode": "normal" if fields.get("mode") == "wartime" else "wartime"}
            said = f"switched the grid to {values['mode']}"
        else:
            members = [dict(member) for member in fields.get("members") or []]
            # two members of the same role would swap nothing
            first, second = next((a, b) for a in members for b in members if a.get("role") != b.get("role"))
            first["role"], second["role"] = second.get("role"), first.get("role")
            values = {"members": members}
            said = f"swapped the roles of {first.get('name')} and {second.get('name')}"
        key = f"d{day}/{slot.name}/leader-only"
        self.ledger.plan(Item(key, slot.node, day, create=False, expect="refused:leader_only"))
        await slot.proc.call("edits", items=[{"key": key, "kind": "grid", "record": slot.grid, "values": values}])
        ack = self.ledger.items[key].ack
        if ack is None or not ack["stamps"]:
            self.result.problems.append(f"day {day}: {slot.name}'s leader-only change did not change its tablet")
        self.log("leader-only", f"{slot.name} (a worker) {said} on its tablet", "rounds")

    async def _evening_faults(self, day: int) -> None:
        for slot, how in self.schedule.corrupt.get(day, []):
            assert slot.proc is not None
            await slot.proc.close()
            if how == "torn":
                size = append_torn_frame(slot.store_dir)
                opened = await self._start_device(slot)
                report = opened.get("report") or {}
                if report.get("torn_bytes") != size:
                    self.result.problems.append(f"day {day}: torn frame of {size} bytes on {slot.name}: {report}")
                self.log(
                    "torn-frame",
                    f"{slot.name}: {size} bytes appended; open reported {report.get('torn_bytes')}",
                    "evening",
                )
            else:
                offset, size = append_forged_frame(slot.store_dir)
                await self._open_forged(slot, offset, size, marker_covers(slot.store_dir, offset))
            dump = await slot.proc.call("dump")  # type: ignore[union-attr]
            self._check_local(slot, {env["id"]: env for env in dump["records"]})

    async def _open_forged(self, slot: Slot, offset: int, size: int, covered: bool) -> None:
        """A complete last frame that fails authentication. Beyond what the commit marker counts (the save never
        returned) the store must drop it as a torn save and say so; a frame the marker counts is damage: the store
        must refuse to open naming file and offset, and the worker salvages every intact record into a new store
        and carries on with it. Opening silently is always wrong."""
        proc = DeviceProcess(slot, self.env, self._on_event)
        slot.proc = proc
        await proc.spawn()
        try:
            opened = await proc.call("open")
        except DeviceFailed as error:
            if error.error != "StoreCorrupted" or "store.log" not in error.message or str(offset) not in error.message:
                self.result.problems.append(f"day {self.day}: forged frame on {slot.name}: unexpected {error}")
            elif not covered:
                self.result.problems.append(
                    f"day {self.day}: {slot.name} refused to open over a frame the commit marker does not count "
                    f"(a save that never returned): {error.message}"
                )
            self.log("forged-frame", f"{slot.name}: open refused ({error.message})", "evening")
        else:
            slot.node = opened["node"]
            report = opened.get("report") or {}
            if covered or report.get("torn_bytes") != size:
                self.result.problems.append(
                    f"day {self.day}: {slot.name} opened over a forged frame (marker counts it: {covered}) saying "
                    f"{report}"
                )
            self.log("forged-frame", f"{slot.name}: the forged frame was dropped as a torn save: {report}", "evening")
            return
        await proc.close()
        rescued = slot.store_dir.with_name(slot.store_dir.name + "-salvaged")
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", "from field_agent.cli.main import main; main()", "--store", str(slot.store_dir),
             "verify", "--salvage", str(rescued), "--json"],
            env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"salvage of {slot.name} failed: {done.stderr.strip()}")
        slot.store_dir = rescued
        await self._start_device(slot)
        self.log("forged-frame", f"{slot.name}: salvaged into a new store and carried on", "evening")
