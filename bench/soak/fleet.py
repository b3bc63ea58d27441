"""The tablets of the soak: one worker process per device, spoken to over JSON lines, killable at any moment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

DEVICE_SCRIPT = Path(__file__).with_name("device.py")
CLOCK_OFFSET_ENV = "FIELD_SOAK_CLOCK_OFFSET_MS"


class DeviceFailed(Exception):
    """A device command answered with an error event."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error, self.message = error, message


class DeviceKilled(Exception):
    """The device process died before answering."""


@dataclass
class Slot:
    """A worker's place in a grid; the tablet in it changes when one is lost and replaced."""

    index: int
    grid: str
    grid_index: int
    worker: str
    role: str
    store_dir: Path
    node: str = ""
    device_id: str = ""
    generation: int = 0
    clock_offset_ms: int = 0
    proc: DeviceProcess | None = None
    retired: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"g{self.grid_index}d{self.index}"


EventSink = Callable[["Slot", dict[str, Any]], None]


class DeviceProcess:
    """One running ``device.py``; ``call`` sends a command and collects its events until the answer."""

    def __init__(self, slot: Slot, env: dict[str, str], sink: EventSink) -> None:
        self.slot = slot
        self.env = env
        self.sink = sink
        self.process: asyncio.subprocess.Process | None = None
        self._busy = asyncio.Lock()

    async def spawn(self) -> None:
        env = {**self.env, CLOCK_OFFSET_ENV: str(self.slot.clock_offset_ms)}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(DEVICE_SCRIPT), "--store", str(self.slot.store_dir),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env=env, limit=64 * 1024 * 1024,
        )  # fmt: skip
        ready = await self._next_event(60)
        if ready.get("ev") != "ready":
            raise DeviceKilled(f"device {self.slot.name} did not start: {ready}")

    async def _next_event(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise DeviceKilled(f"device {self.slot.name} (pid {self.process.pid}) died")
        return orjson.loads(line)

    async def call(self, op: str, timeout: float = 180.0, **fields: Any) -> dict[str, Any]:
        """Run one command; events go to the sink as they arrive; the final answer is returned."""
        async with self._busy:
            assert self.process is not None and self.process.stdin is not None
            try:
                self.process.stdin.write(orjson.dumps({"op": op, **fields}) + b"\n")
                await self.process.stdin.drain()
            except (ConnectionError, BrokenPipeError) as error:
                raise DeviceKilled(f"device {self.slot.name} is gone") from error
            while True:
                event = await self._next_event(timeout)
                kind = event.get("ev")
                if kind == "done":
                    return event
                if kind == "error":
                    raise DeviceFailed(event["error"], event["message"])
                self.sink(self.slot, event)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def wait(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def close(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(DeviceKilled, DeviceFailed, TimeoutError):
            await self.call("close", timeout=30)
        with contextlib.suppress(ProcessLookupError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.kill()
            await self.process.wait()
