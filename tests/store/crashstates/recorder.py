"""Recording the store's file operations through its one seam: the ``os`` name of the modules that write.

``field_agent.store.fsutil``, ``writer`` and ``lock`` do every write, fsync, truncate and rename of the store
through ``os.<call>``; during a recording that name is a proxy which performs the real call and appends the
operation to a ``Trace``. ``Path.mkdir`` and ``Path.unlink`` (creating the store directory, removing leftover temp
files) are wrapped as well. Only paths under the recording's base directory are recorded, and the lock file
(``store.lock``: a pid, not data) is left out of the model.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from field_agent.store import fsutil, lock, writer
from field_agent.store.log import plain_tables

from .model import ROOT, Ack, CrashState, Op, Trace, replay

WRITING_MODULES = (fsutil, writer, lock)
IGNORED = {lock.LOCK_NAME}


class Recorder:
    """Mirrors the namespace under ``base`` (inode numbers of its own) and turns calls into ``Op``s."""

    def __init__(self, base: Path) -> None:
        self.base = base.resolve()
        self.trace = Trace()
        self.inodes: dict[str, int] = {"": ROOT}  # path relative to base -> inode
        self.fds: dict[int, int] = {}
        self._next = ROOT + 1
        # a broken store variant for the self-test: return False to skip (not perform, not record) a call
        self.veto: Callable[[str, str], bool] = lambda _call, _path: True

    def _relative(self, path: Any) -> str | None:
        full = Path(os.fspath(path))
        full = (full if full.is_absolute() else Path.cwd() / full).parent.resolve() / full.name
        try:
            relative = full.relative_to(self.base).as_posix()
        except ValueError:
            return None
        return None if full.name in IGNORED else ("" if relative == "." else relative)

    def _new_inode(self, relative: str, is_dir: bool) -> int:
        ino, self._next = self._next, self._next + 1
        self.inodes[relative] = ino
        self.trace.names[ino] = relative
        if is_dir:
            self.trace.dirs.add(ino)
        return ino

    def _entry(self, relative: str) -> tuple[int, str]:
        parent, _, name = relative.rpartition("/")
        return self.inodes[parent], name

    def _emit(self, op: Op) -> None:
        self.trace.ops.append(op)

    # -- the os calls --------------------------------------------------------------------------------------------

    def open(self, path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        relative = self._relative(path)
        existed = relative in self.inodes if relative is not None else True
        fd = os.open(path, flags, mode, **kwargs)
        if relative is None:
            return fd
        if not existed:
            ino = self._new_inode(relative, is_dir=False)
            directory, name = self._entry(relative)
            self._emit(Op("link", ino, directory, name))
        else:
            ino = self.inodes[relative]
            if flags & os.O_TRUNC:
                self._emit(Op("trunc", ino, size=0))
        self.fds[fd] = ino
        return fd

    def close(self, fd: int) -> None:
        self.fds.pop(fd, None)
        os.close(fd)

    def write(self, fd: int, data: Any) -> int:
        if fd not in self.fds:
            return os.write(fd, data)
        position = os.lseek(fd, 0, os.SEEK_CUR)
        written = os.write(fd, data)
        self._emit(Op("write", self.fds[fd], offset=position, data=bytes(data[:written])))
        return written

    def pwrite(self, fd: int, data: Any, offset: int) -> int:
        written = os.pwrite(fd, data, offset)
        if fd in self.fds:
            self._emit(Op("write", self.fds[fd], offset=offset, data=bytes(data[:written])))
        return written

    def ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)
        if fd in self.fds:
            self._emit(Op("trunc", self.fds[fd], size=size))

    def _sync(self, call: str, fd: int) -> None:
        if fd in self.fds and not self.veto(call, self.trace.names.get(self.fds[fd], "")):
            return
        getattr(os, call)(fd)
        if fd in self.fds:
            self._emit(Op("fsync", self.fds[fd]))

    def fsync(self, fd: int) -> None:
        self._sync("fsync", fd)

    def fdatasync(self, fd: int) -> None:
        self._sync("fdatasync", fd)

    def replace(self, source: Any, target: Any) -> None:
        os.replace(source, target)
        old, new = self._relative(source), self._relative(target)
        if old is None or new is None:
            return
        ino = self.inodes.pop(old)
        self.inodes[new] = ino
        self.trace.names[ino] = new
        (sdir, sname), (ddir, dname) = self._entry(old), self._entry(new)
        self._emit(Op("rename", ino, sdir, sname, dir2=ddir, name2=dname))

    def unlinked(self, path: Path) -> None:
        relative = self._relative(path)
        if relative is not None and relative in self.inodes:
            directory, name = self._entry(relative)
            self._emit(Op("unlink", self.inodes.pop(relative), directory, name))

    def made_dirs(self, path: Path) -> None:
        relative = self._relative(path)
        if relative is None:
            return
        walked = ""
        for part in relative.split("/"):
            walked = f"{walked}/{part}" if walked else part
            if walked not in self.inodes:
                directory, name = self._entry(walked)
                self._emit(Op("mkdir", self._new_inode(walked, is_dir=True), directory, name))

    def adopt(self) -> int:
        """Take the files already under the base directory as durable (a crash state to recover from): emitted as
        created, written and fsynced. Returns the number of operations that makes, the first crash point to check."""
        for path in sorted(self.base.rglob("*")):
            relative = path.relative_to(self.base).as_posix()
            if path.name in IGNORED:
                continue
            directory, name = self._entry(relative)
            if path.is_dir():
                self._emit(Op("mkdir", self._new_inode(relative, is_dir=True), directory, name))
                continue
            ino = self._new_inode(relative, is_dir=False)
            self._emit(Op("link", ino, directory, name))
            self._emit(Op("write", ino, data=path.read_bytes()))
            self._emit(Op("fsync", ino))
        for directory in sorted(self.trace.dirs):
            self._emit(Op("fsync", directory))
        return len(self.trace.ops)

    # -- the application's promises ----------------------------------------------------------------------------

    def ack(self, label: str, tables: dict | None, passphrase: str) -> None:
        """Note a call that returned. First check the recording is complete: the operations recorded so far, all
        applied, must give exactly the files on disk (a write that bypassed the seam would make them differ)."""
        everything = CrashState(
            len(self.trace.ops),
            tuple((index, 0, len(op.data)) for index, op in enumerate(self.trace.ops) if op.kind != "fsync"),
        )
        modelled, real = replay(self.trace, everything), self.files_on_disk()
        if modelled != real:
            differ = sorted(path for path in set(modelled) | set(real) if modelled.get(path) != real.get(path))
            raise AssertionError(f"after '{label}' the recording does not match the disk: {', '.join(differ)}")
        self.trace.acks.append(Ack(len(self.trace.ops), label, tables, passphrase))

    def files_on_disk(self) -> dict[str, bytes | None]:
        return {
            path.relative_to(self.base).as_posix(): None if path.is_dir() else path.read_bytes()
            for path in self.base.rglob("*")
            if path.name not in IGNORED
        }


class RecordingOS:
    """Stands in for the ``os`` module inside the store's writing modules."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._recorder, name, None)
        if name in ("open", "close", "write", "pwrite", "ftruncate", "fsync", "fdatasync", "replace"):
            return call
        return getattr(os, name)


@contextlib.contextmanager
def recording(base: Path) -> Iterator[Recorder]:
    """Record every file operation the store makes under ``base`` (an empty directory) while the block runs."""
    recorder = Recorder(base)
    proxy = RecordingOS(recorder)
    original_unlink, original_mkdir = Path.unlink, Path.mkdir

    def unlink(self: Path, missing_ok: bool = False) -> None:
        original_unlink(self, missing_ok=missing_ok)
        recorder.unlinked(self)

    def mkdir(self: Path, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        original_mkdir(self, mode=mode, parents=parents, exist_ok=exist_ok)
        recorder.made_dirs(self)

    with contextlib.ExitStack() as stack:
        for module in WRITING_MODULES:
            stack.callback(setattr, module, "os", module.os)
            module.os = proxy  # type: ignore[attr-defined]
        stack.callback(setattr, Path, "unlink", original_unlink)
        stack.callback(setattr, Path, "mkdir", original_mkdir)
        Path.unlink = unlink  # type: ignore[method-assign]
        Path.mkdir = mkdir  # type: ignore[method-assign]
        yield recorder


def tables_of(store: Any) -> dict:
    """The store's tables as the log holds them (empty tables, which TinyDB makes on first read, left out)."""
    return {name: table for name, table in plain_tables(store.storage.read()).items() if table}
