"""The recorded file operations and the crash states they allow.

A crash leaves the operations issued so far, of which the file system may have made durable any it likes, except
that an fsync is a barrier: once ``fsync(file)`` has returned, every earlier write and truncate of that file is on
disk; once ``fsync(directory)`` has returned, every earlier create, rename, unlink and mkdir in that directory is.
Between barriers

- writes (and truncates) of a file persist in any subset, and a write may be torn at ``grain`` boundaries (each
  aligned piece persists or not on its own; a piece beyond the end of the file extends it with zeros before it),
- directory changes are journaled in order: each directory keeps a prefix of its pending changes (a rename that
  was not followed by an fsync of its directory may be lost, and so may everything after it in that directory).

This is the model of ALICE (Pillai et al., OSDI 2014) and CrashMonkey (Mohan et al., OSDI 2018), with metadata
ordered per directory as on ext4/xfs journaling.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = 0  # inode of the recording's base directory (exists before the run, durable)

DATA_KINDS = ("write", "trunc")
ENTRY_KINDS = ("link", "mkdir", "rename", "unlink")


@dataclass(frozen=True)
class Op:
    """One file-system operation. ``dir``/``name`` is the directory entry an entry op changes (for a rename, the
    source; ``dir2``/``name2`` the destination); ``ino`` the file it concerns."""

    kind: str  # link | mkdir | rename | unlink | write | trunc | fsync
    ino: int
    dir: int = -1
    name: str = ""
    offset: int = 0
    data: bytes = b""
    size: int = 0
    dir2: int = -1
    name2: str = ""

    def describe(self, names: dict[int, str]) -> str:
        where = names.get(self.ino, f"inode {self.ino}")
        if self.kind == "write":
            return f"write {where} [{self.offset}, {self.offset + len(self.data)})"
        if self.kind == "trunc":
            return f"truncate {where} to {self.size}"
        if self.kind == "fsync":
            return f"fsync {where}"
        if self.kind == "rename":
            return f"rename {self.name} -> {self.name2}"
        return f"{self.kind} {self.name}"


@dataclass
class Ack:
    """The application call that returned once ``position`` operations had been issued, and what it promised:
    the tables (None: no store yet) and the passphrase that opens it from then on."""

    position: int
    label: str
    tables: dict | None
    passphrase: str


@dataclass
class Trace:
    ops: list[Op] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    dirs: set[int] = field(default_factory=lambda: {ROOT})
    names: dict[int, str] = field(default_factory=dict)  # inode -> a path, for messages

    def promises(self, point: int) -> tuple[Ack, Ack | None]:
        """(the last call acknowledged with ``point`` operations issued, the call in flight there, if any)."""
        done = [ack for ack in self.acks if ack.position <= point]
        pending = [ack for ack in self.acks if ack.position > point]
        return done[-1], (pending[0] if pending else None)


@dataclass(frozen=True)
class CrashState:
    """Operations ``0 .. point-1`` issued; ``kept`` are the (pieces of) operations that reached the disk."""

    point: int
    kept: tuple[tuple[int, int, int], ...]  # (op index, piece start, piece end) in program order

    def describe(self, trace: Trace) -> str:
        lost = []
        kept_ops = {index for index, _start, _end in self.kept}
        for index in range(self.point):
            op = trace.ops[index]
            if op.kind != "fsync" and index not in kept_ops:
                lost.append(f"#{index} {op.describe(trace.names)}")
        torn = [
            f"#{index} bytes [{trace.ops[index].offset + start}, {trace.ops[index].offset + end}) only"
            for index, start, end in self.kept
            if trace.ops[index].kind == "write" and (start, end) != (0, len(trace.ops[index].data))
        ]
        last = trace.ops[self.point - 1].describe(trace.names) if self.point else "nothing"
        parts = [f"crash after op #{self.point - 1} ({last})"]
        if lost:
            parts.append("not on disk: " + "; ".join(lost))
        if torn:
            parts.append("torn: " + "; ".join(torn))
        return ", ".join(parts)


def pieces(op: Op, grain: int) -> list[tuple[int, int]]:
    """The parts of a write that may reach the disk independently (aligned to ``grain`` bytes of the file)."""
    if op.kind != "write" or not grain:
        return [(0, len(op.data) if op.kind == "write" else 0)]
    cuts = [0]
    boundary = (op.offset // grain + 1) * grain
    while boundary < op.offset + len(op.data):
        cuts.append(boundary - op.offset)
        boundary += grain
    cuts.append(len(op.data))
    return list(itertools.pairwise(cuts))


def _pending(trace: Trace, point: int) -> tuple[list[int], list[int], dict[int, list[int]]]:
    """(durable op indexes, pending data op indexes, pending entry op indexes by directory) at ``point``."""
    synced_at: dict[int, int] = {}  # inode -> last fsync index before point
    for index in range(point):
        if trace.ops[index].kind == "fsync":
            synced_at[trace.ops[index].ino] = index
    durable, data, entries = [], [], {}
    for index in range(point):
        op = trace.ops[index]
        if op.kind == "fsync":
            continue
        owner = op.ino if op.kind in DATA_KINDS else op.dir
        if synced_at.get(owner, -1) > index:
            durable.append(index)
        elif op.kind in DATA_KINDS:
            data.append(index)
        else:
            entries.setdefault(op.dir, []).append(index)
    return durable, data, entries


def crash_states(trace: Trace, point: int, grain: int, limit: int, rng: random.Random) -> tuple[list[CrashState], int]:
    """The crash states after ``point`` operations: all of them, or ``limit`` drawn with ``rng`` if there are more.
    Returns (states, how many there are in all)."""
    durable, data, entries = _pending(trace, point)
    units = [(index, start, end) for index in data for start, end in pieces(trace.ops[index], grain)]
    dirs = sorted(entries)
    total = 2 ** len(units)
    for directory in dirs:
        total *= len(entries[directory]) + 1
    fixed = [(index, 0, len(trace.ops[index].data)) for index in durable]

    def build(mask: int, prefixes: tuple[int, ...]) -> CrashState:
        kept = list(fixed) + [unit for bit, unit in enumerate(units) if mask >> bit & 1]
        for directory, length in zip(dirs, prefixes, strict=True):
            kept += [(index, 0, 0) for index in entries[directory][:length]]
        return CrashState(point, tuple(sorted(kept)))

    prefix_ranges = [range(len(entries[directory]) + 1) for directory in dirs]
    if total <= limit:
        combos: Iterator[tuple[int, tuple[int, ...]]] = (
            (mask, prefixes) for mask in range(2 ** len(units)) for prefixes in itertools.product(*prefix_ranges)
        )
        return [build(mask, prefixes) for mask, prefixes in combos], total
    drawn = []
    for _ in range(limit):
        mask = rng.getrandbits(len(units)) if units else 0
        drawn.append(build(mask, tuple(rng.choice(r) for r in prefix_ranges)))
    return drawn, total


def replay(trace: Trace, state: CrashState) -> dict[str, bytes | None]:
    """The files (path -> bytes; None for a directory) reachable from the base directory in ``state``."""
    entries: dict[tuple[int, str], int] = {}
    contents: dict[int, bytearray] = {}
    for index, start, end in state.kept:
        op = trace.ops[index]
        if op.kind in ("link", "mkdir"):
            entries[(op.dir, op.name)] = op.ino
        elif op.kind == "rename":
            entries.pop((op.dir, op.name), None)
            entries[(op.dir2, op.name2)] = op.ino
        elif op.kind == "unlink":
            entries.pop((op.dir, op.name), None)
        elif op.kind == "trunc":
            buffer = contents.setdefault(op.ino, bytearray())
            del buffer[op.size :]
            buffer.extend(bytes(op.size - len(buffer)))
        elif op.kind == "write":
            buffer = contents.setdefault(op.ino, bytearray())
            offset = op.offset + start
            if len(buffer) < offset:
                buffer.extend(bytes(offset - len(buffer)))
            buffer[offset : offset + end - start] = op.data[start:end]
    files: dict[str, bytes | None] = {}

    def walk(directory: int, prefix: str) -> None:
        for (parent, name), ino in sorted(entries.items()):
            if parent == directory:
                path = prefix + name
                if ino in trace.dirs:
                    files[path] = None
                    walk(ino, path + "/")
                else:
                    files[path] = bytes(contents.get(ino, b""))

    walk(ROOT, "")
    return files


def fingerprint(files: dict[str, bytes | None]) -> bytes:
    digest = hashlib.sha256()
    for path, content in sorted(files.items()):
        digest.update(path.encode() + b"\0" + (b"D" if content is None else b"F" + hashlib.sha256(content).digest()))
    return digest.digest()


def materialize(files: dict[str, bytes | None], base: Path) -> None:
    """Write a crash state's files under ``base`` (an empty directory)."""
    for path, content in sorted(files.items()):
        target = base / path
        if content is None:
            target.mkdir(mode=0o700)
        else:
            target.write_bytes(content)
            target.chmod(0o600)
