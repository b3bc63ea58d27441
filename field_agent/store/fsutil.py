"""Durable file operations: fsync of files and directories, atomic replacement."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dirs_above(directory: Path) -> None:
    """Make ``directory``'s own name durable (and its parents', which ``mkdir(parents=True)`` may have made):
    without this a power cut can lose a new store directory with everything saved in it."""
    for parent in directory.resolve().parents:
        with contextlib.suppress(OSError):  # an ancestor we may not open (permissions): it existed before us
            fsync_dir(parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file, never a mix."""
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    os.close(fd)
    os.replace(temp, path)
    fsync_dir(path.parent)
