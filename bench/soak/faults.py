"""Faults done to a device's disk: a store appended with a torn or a forged frame, and a full disk (a small tmpfs,
or a file-size limit inside the device process when nothing can be mounted)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LOG_NAME = "store.log"


@dataclass
class FaultLog:
    """Every fault injected, in order: (day, phase, kind, detail)."""

    entries: list[tuple[int, str, str, str]] = field(default_factory=list)
    echo: bool = False

    def add(self, day: int, phase: str, kind: str, detail: str) -> None:
        self.entries.append((day, phase, kind, detail))
        if self.echo:
            print(f"  [day {day} {phase}] {kind}: {detail}", flush=True)

    def count(self, kind: str, day: int | None = None) -> int:
        return sum(1 for d, _, k, _ in self.entries if k == kind and (day is None or d == day))


def append_torn_frame(store_dir: Path) -> int:
    """Append the start of a frame whose length promises more bytes than follow (a save cut by power loss)."""
    body = secrets.token_bytes(37)
    blob = (4096).to_bytes(4, "big") + secrets.token_bytes(12) + body
    with (store_dir / LOG_NAME).open("ab") as log:
        log.write(blob)
    return len(blob)


def append_forged_frame(store_dir: Path) -> tuple[int, int]:
    """Append a complete frame of random bytes: the right length, but it cannot authenticate.

    Returns its offset and size."""
    path = store_dir / LOG_NAME
    offset = path.stat().st_size
    body = secrets.token_bytes(200)
    frame = len(body).to_bytes(4, "big") + secrets.token_bytes(12) + body
    with path.open("ab") as log:
        log.write(frame)
    return offset, len(frame)


def marker_covers(store_dir: Path, offset: int) -> bool:
    """Whether the commit marker (``store.tail``: magic, generation, frame count, log length, HMAC) counts the
    byte at ``offset`` as part of a save that returned; unauthenticated, it only tells the soak what to expect."""
    tail = (store_dir / "store.tail").read_bytes() if (store_dir / "store.tail").exists() else b""
    return len(tail) >= 32 and int.from_bytes(tail[24:32], "big") > offset


class SmallDisk:
    """A size-limited tmpfs for one device's store, filled up and emptied on demand."""

    def __init__(self, mount_point: Path, size: str = "16m") -> None:
        self.mount_point = mount_point
        self.size = size
        self.mounted = False
        self.reason = ""
        self.filler = mount_point / "filler.bin"

    def mount(self) -> bool:
        self.mount_point.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0700", "tmpfs", str(self.mount_point)],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            self.reason = f"mount could not run: {error}"
            return False
        self.mounted = done.returncode == 0
        self.reason = "" if self.mounted else (done.stderr.strip() or f"mount exited {done.returncode}")
        return self.mounted

    def fill(self) -> int:
        """Write until the disk refuses; return the bytes written."""
        written = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1 << 6, 1):
                block = b"\0" * chunk
                while True:
                    try:
                        written += os.write(fd, block)
                    except OSError as error:
                        if error.errno not in (errno.ENOSPC, errno.EFBIG):
                            raise
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.mount_point)], capture_output=True)
            self.mounted = False
