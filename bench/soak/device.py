"""One simulated tablet: a real encrypted store and the real sync agent, driven by JSON lines on stdin.

Run as ``python bench/soak/device.py --store DIR``. Each command line gets event lines back on stdout and ends with
one ``{"ev": "done", ...}`` or ``{"ev": "error", ...}`` line. Saves report ``attempt`` before and ``ack`` after the
store call returns, so whoever kills this process knows exactly which saves a worker saw succeed.

``FIELD_SOAK_CLOCK_OFFSET_MS`` shifts this tablet's clock (the store's hybrid clock and the wall clock the store
checks its saved stamp against on open) to simulate a device whose date is set days off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import orjson

CLOCK_OFFSET_ENV = "FIELD_SOAK_CLOCK_OFFSET_MS"
PASSPHRASE_ENV = "FIELD_AGENT_PASSPHRASE"


def _install_clock_offset() -> int:
    """Make every store clock in this process read a wall clock shifted by the offset (0: untouched)."""
    offset = int(os.environ.get(CLOCK_OFFSET_ENV) or 0)
    if offset:
        import field_agent.store.store as store_module
        from field_agent.domain.hlc import HybridClock, wall_ms

        class SkewedClock(HybridClock):
            def __init__(self, node: str, last: str | None = None, now_ms: Any = None) -> None:
                super().__init__(node, last, now_ms or (lambda: wall_ms() + offset))

        store_module.HybridClock = SkewedClock  # type: ignore[misc]
        # the store compares its saved stamp with this on open, as it would with a tablet's wrong date
        store_module.wall_ms = lambda: wall_ms() + offset  # type: ignore[attr-defined]
    return offset


def emit(event: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
    sys.stdout.buffer.flush()


class Device:
    """The tablet's state between commands: the open store (kept open, like the app keeps it)."""

    def __init__(self, path: Path, passphrase: str) -> None:
        self.path = path
        self.passphrase = passphrase
        self.store: Any = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def op_open(self, _cmd: dict[str, Any]) -> dict[str, Any]:
        from field_agent.store import Store

        if (self.path / "store.header").exists():
            self.store = Store.open(self.path, self.passphrase)
        else:
            self.store = Store.create(self.path, self.passphrase)
        return {"node": self.store.node_id, "report": self.store.open_report, "grid": self.store.grid}

    def op_close(self, _cmd: dict[str, Any]) -> dict[str, Any]:
        if self.store is not None:
            self.store.close()
            self.store = None
        return {}

    def op_enroll(self, cmd: dict[str, Any]) -> dict[str, Any]:
        from field_agent.sync.agent import enroll

        answer = asyncio.run(enroll(self.store, cmd["url"], cmd["code"], cmd["name"]))
        return {"device_id": answer.device_id, "grid": answer.grid, "role": answer.role, "worker": answer.worker}

    def op_fsize_limit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Cap the size of files this process may grow (the full-disk fallback when no tmpfs can be mounted)."""
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = cmd["bytes"]
        _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY if limit < 0 else limit, hard))
        return {"limit": limit}

    # -- saves -----------------------------------------------------------------------------------------------------

    def op_edits(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Save each edit in turn (one durable store call each), reporting attempt/ack/fail around it."""
        from field_agent.domain.ids import new_id

        pace = cmd.get("pace_ms", 0) / 1000
        acked = failed = 0
        for item in cmd["items"]:
            record_id = item.get("record") or new_id()
            emit({"ev": "attempt", "key": item["key"], "record": record_id})
            before = self.store.get(record_id)
            try:
                if item.get("delete"):
                    envelope = self.store.delete(record_id)
                else:
                    envelope = self.store.put(
                        item["kind"],
                        item.get("values", {}),
                        record_id=record_id,
                        grid=item.get("grid"),
                        set_changes=item.get("sets"),
                    )
            except Exception as error:
                failed += 1
                emit({"ev": "fail", "key": item["key"], "record": record_id, "error": type(error).__name__,
                      "message": str(error)})  # fmt: skip
            else:
                acked += 1
                emit(_ack(item["key"], before, envelope))
            if pace:
                time.sleep(pace)
        return {"acked": acked, "failed": failed}

    def op_switch_mode(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """The leader switches the grid's mode: grid record and every open task change in one durable commit."""
        from field_agent.domain.envelope import view
        from field_agent.domain.roles import switch_mode

        grid_id = self.store.grid
        grid = self.store.get(grid_id)
        tasks = [view(envelope) for envelope in self.store.records("task")]
        plan = switch_mode({**view(grid), "id": grid_id}, tasks, cmd["mode"])
        edits = [(grid_id, "grid", plan.grid_values)] + [(tid, "task", v) for tid, v in plan.task_values.items()]
        befores = {record_id: self.store.get(record_id) for record_id, _, _ in edits}
        key = cmd["key"]
        for index, (record_id, _, _) in enumerate(edits):
            emit({"ev": "attempt", "key": f"{key}/{index}", "record": record_id})
        with self.store.batch():
            for record_id, kind, values in edits:
                self.store.put(kind, values, record_id=record_id)
        for index, (record_id, _, _) in enumerate(edits):
            emit(_ack(f"{key}/{index}", befores[record_id], self.store.get(record_id)))
        return {"acked": len(edits), "moves": len(plan.moves)}

    def op_resolve(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Close every open conflict, alternating keep-theirs and keep-mine."""
        resolved = []
        for index, (envelope, cid, _conflict) in enumerate(self.store.open_conflicts()):
            record_id = envelope["id"]
            key = f"{cmd['key']}/{index}"
            emit({"ev": "attempt", "key": key, "record": record_id})
            before = self.store.get(record_id)
            after = self.store.resolve_conflict(record_id, cid, choice="theirs" if index % 2 == 0 else "mine")
            emit(_ack(key, before, after))
            resolved.append([record_id, cid])
        return {"resolved": resolved}

    # -- sync and inspection ---------------------------------------------------------------------------------------

    def op_sync(self, cmd: dict[str, Any]) -> dict[str, Any]:
        from field_agent.sync.agent import SyncAgent
        from field_agent.sync.backoff import RetryPolicy

        retry = RetryPolicy(attempts=cmd.get("attempts", 10), base_s=0.2, cap_s=2.0, budget_s=cmd.get("budget_s", 40))
        agent = SyncAgent(self.store, retry=retry, timeout=cmd.get("timeout_s", 20.0))
        return asyncio.run(agent.sync()).to_json()

    def op_clock(self, _cmd: dict[str, Any]) -> dict[str, Any]:
        """A fresh stamp from the store's clock next to this machine's true time, to see the skew at work."""
        return {"stamp": self.store.clock.now(), "true_ms": time.time_ns() // 1_000_000}

    def op_dump(self, _cmd: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        return {
            "records": store.records(include_deleted=True),
            "pending": store.pending_count(),
            "refused": [
                {"record": entry["change"]["record"], "code": entry["code"], "reason": entry["reason"]}
                for entry in store.refused_changes()
            ],
            "open_conflicts": [[envelope["id"], cid] for envelope, cid, _ in store.open_conflicts()],
            "node": store.node_id,
            "grid": store.grid,
            "cursor": store.meta_get("cursor"),
        }


def _ack(key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """What a save wrote: each register's new stamp and value, each set element's stamp, and the stamps replaced."""
    old_stamps = (before or {}).get("stamps", {})
    stamps = {name: stamp for name, stamp in after["stamps"].items() if old_stamps.get(name) != stamp}
    old_sets = (before or {}).get("sets", {})
    sets = {
        name: {element: entry for element, entry in elements.items() if old_sets.get(name, {}).get(element) != entry}
        for name, elements in after["sets"].items()
    }
    resolved = {
        cid: conflict["resolved"]
        for cid, conflict in after.get("conflicts", {}).items()
        if conflict.get("resolved") and not (before or {}).get("conflicts", {}).get(cid, {}).get("resolved")
    }
    return {
        "ev": "ack",
        "key": key,
        "record": after["id"],
        "kind": after["kind"],
        "grid": after["grid"],
        "stamps": stamps,
        "values": {name: after["fields"].get(name) for name in stamps},
        "base": {name: old_stamps.get(name) for name in stamps},
        "sets": {name: elements for name, elements in sets.items() if elements},
        "resolved": resolved,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args()
    offset = _install_clock_offset()
    device = Device(args.store, os.environ[PASSPHRASE_ENV])
    emit({"ev": "ready", "pid": os.getpid(), "clock_offset_ms": offset})
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        cmd = orjson.loads(line)
        handler = getattr(device, f"op_{cmd['op']}", None)
        try:
            if handler is None:
                raise ValueError(f"unknown command {cmd['op']!r}")
            result = handler(cmd)
        except Exception as error:
            emit({"ev": "error", "error": type(error).__name__, "message": str(error)})
        else:
            emit({"ev": "done", **result})
        if cmd["op"] == "close":
            break


if __name__ == "__main__":
    main()
