"""Appending sealed frames durably, the commit marker that catches a cut-off log, and atomic compaction.

``store.tail`` holds the generation, frame count and log length of the last acknowledged commit, with an HMAC
under the data key. It is rewritten in place (one 64-byte write, well inside a disk sector) after each frame is
fsynced. On open a log with fewer frames than the marker promises was cut off after a save returned: damage, not a
torn write. A frame beyond the marker that is incomplete was never acknowledged: dropped and reported.

The marker is written after the frame is durable, so it can lag the log but never run ahead of it (no false
alarms). It is fsynced at close and compaction, not on every save: a save costs one fsync, and the kernel flushes
the marker within seconds anyway; only a power cut in those seconds can leave it behind the log.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from field_agent.store.errors import StoreCorrupted, StoreWriteFailed
from field_agent.store.fsutil import fsync_dir, fsync_dirs_above
from field_agent.store.log import SNAPSHOT, ScanResult, file_header, seal_frame

LOG_NAME = "store.log"
NEXT_NAME = LOG_NAME + ".next"  # the next generation, written beside the live log by a background compaction
TAIL_NAME = "store.tail"
NEXT_SYNC_STEP = 1 << 20
TAIL_MAGIC = b"FATAIL01"
TAIL_SIZE = 8 + 8 + 8 + 8 + 32


def _tail_key(data_key: bytes) -> bytes:
    return hashlib.sha256(b"field-agent/tail/v1|" + data_key).digest()


def encode_tail(data_key: bytes, store_id: bytes, generation: int, frames: int, length: int) -> bytes:
    fields = TAIL_MAGIC + generation.to_bytes(8, "big") + frames.to_bytes(8, "big") + length.to_bytes(8, "big")
    return fields + hmac.new(_tail_key(data_key), store_id + fields, hashlib.sha256).digest()


def decode_tail(data: bytes, data_key: bytes, store_id: bytes) -> tuple[int, int, int] | None:
    """(generation, frames, length) of the last commit, or None if the marker is missing or damaged."""
    if len(data) != TAIL_SIZE or not data.startswith(TAIL_MAGIC):
        return None
    fields, mac = data[:32], data[32:]
    if not hmac.compare_digest(mac, hmac.new(_tail_key(data_key), store_id + fields, hashlib.sha256).digest()):
        return None
    return int.from_bytes(fields[8:16], "big"), int.from_bytes(fields[16:24], "big"), int.from_bytes(fields[24:], "big")


def read_marker(directory: Path, data_key: bytes, store_id: bytes) -> tuple[int, int, int] | None:
    """(generation, frames, length) from the commit marker, or None if it is missing or damaged."""
    try:
        return decode_tail((directory / TAIL_NAME).read_bytes(), data_key, store_id)
    except FileNotFoundError:
        return None


class _Marker(enum.Enum):
    READ = "read it now"


def check_against_tail(
    directory: Path,
    scan: ScanResult,
    data_key: bytes,
    store_id: bytes,
    *,
    marker: tuple[int, int, int] | _Marker | None = _Marker.READ,
) -> str | None:
    """Raise StoreCorrupted if acknowledged frames are missing; return a warning if the marker is unreadable.

    ``marker`` is the (generation, frames, length) read before the log was (verify, without the lock); by
    default it is read now."""
    log_path = directory / LOG_NAME
    if marker is _Marker.READ:
        marker = read_marker(directory, data_key, store_id)
    if marker is None:
        return "the commit marker (store.tail) is missing or damaged, so a cut-off log could not be ruled out"
    generation, frames, _length = marker
    if generation > scan.generation:
        raise StoreCorrupted(log_path, 8 + 16, "the log is older than its commit marker (replaced by an old copy?)")
    if generation == scan.generation and frames > len(scan.frames):
        missing = frames - len(scan.frames)
        raise StoreCorrupted(log_path, scan.end, f"{missing} saved frame(s) are missing: the log was cut off here")
    return None


class LogWriter:
    """Owns the open log file: appends frames, keeps the commit marker current, compacts."""

    def __init__(self, directory: Path, store_id: bytes, data_key: bytes, generation: int, frames: int, size: int):
        self.directory = directory
        self.store_id = store_id
        self._data_key = data_key
        self._aead = AESGCM(data_key)
        self.generation = generation
        self.frames = frames
        self.size = size
        self.broken: str | None = None
        self._fd = os.open(directory / LOG_NAME, os.O_RDWR)
        self._tail_fd = os.open(directory / TAIL_NAME, os.O_RDWR | os.O_CREAT, 0o600)

    @classmethod
    def create(cls, directory: Path, store_id: bytes, data_key: bytes, snapshot: bytes) -> None:
        """Write the first generation of a new store's log and its commit marker."""
        frame = seal_frame(AESGCM(data_key), store_id, 1, 0, SNAPSHOT, snapshot)
        content = file_header(store_id, 1) + frame
        _write_new(directory / LOG_NAME, content)
        _write_new(directory / TAIL_NAME, encode_tail(data_key, store_id, 1, 1, len(content)))
        fsync_dir(directory)
        fsync_dirs_above(directory)

    @property
    def data_key(self) -> bytes:
        return self._data_key

    def truncate_torn_tail(self, end: int) -> None:
        """Cut a torn last frame off so the next frame follows the last intact one."""
        os.ftruncate(self._fd, end)
        os.fsync(self._fd)
        self.size = end

    def append(self, kind: int, body: bytes) -> int:
        """Seal and append one frame; return only once it and the commit marker are on disk."""
        if self.broken:
            raise StoreWriteFailed(self.directory, self.broken)
        frame = seal_frame(self._aead, self.store_id, self.generation, self.frames, kind, body)
        try:
            _pwrite_all(self._fd, frame, self.size)
            os.fdatasync(self._fd)
        except OSError as error:
            self._undo_partial_frame()
            raise StoreWriteFailed(self.directory / LOG_NAME, os.strerror(error.errno or 0)) from None
        self.size += len(frame)
        self.frames += 1
        self._write_tail()
        return len(frame)

    def _undo_partial_frame(self) -> None:
        try:
            os.ftruncate(self._fd, self.size)
            os.fsync(self._fd)
        except OSError as error:
            self.broken = f"the log could not be repaired after a failed save ({os.strerror(error.errno or 0)})"

    def _write_tail(self, sync: bool = False) -> None:
        marker = encode_tail(self._data_key, self.store_id, self.generation, self.frames, self.size)
        try:
            _pwrite_all(self._tail_fd, marker, 0)
            if sync:
                os.fdatasync(self._tail_fd)
        except OSError as error:
            # The frame itself is durable; only truncation detection is weakened until the next save.
            self.broken = f"the commit marker could not be written ({os.strerror(error.errno or 0)})"

    def compact(self, snapshot: bytes) -> int:
        """Replace the log by one snapshot frame of a new generation: temp file, fsync, rename, fsync dir."""
        generation = self.generation + 1
        frame = seal_frame(self._aead, self.store_id, generation, 0, SNAPSHOT, snapshot)
        content = file_header(self.store_id, generation) + frame
        temp = self.directory / (LOG_NAME + ".tmp")
        try:
            _write_new(temp, content)
            os.replace(temp, self.directory / LOG_NAME)
            fsync_dir(self.directory)
        except OSError as error:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise StoreWriteFailed(self.directory / LOG_NAME, os.strerror(error.errno or 0)) from None
        os.close(self._fd)
        self._fd = os.open(self.directory / LOG_NAME, os.O_RDWR)
        self.generation, self.frames, self.size = generation, 1, len(content)
        self._write_tail(sync=True)
        return len(content)

    # -- a compaction in the background: the next generation is written beside the live log ---------------------

    def write_next(self, generation: int, frame: list[bytes]) -> int:
        """Write (and fsync) ``store.log.next``: the header of ``generation`` and its snapshot frame, in pieces.
        Runs in a background thread while saves go on appending to the live log; returns its length."""
        fd = os.open(self.directory / NEXT_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            offset = synced = 0
            for piece in (file_header(self.store_id, generation), *frame):
                _pwrite_all(fd, piece, offset)
                offset += len(piece)
                if offset - synced >= NEXT_SYNC_STEP:
                    # a megabyte at a time: a save's fdatasync commits the file system's journal, which
                    # (ext4, data=ordered) first writes out every new block still dirty, this file's included
                    os.fdatasync(fd)
                    synced = offset
            os.fsync(fd)
        except OSError as error:
            raise StoreWriteFailed(self.directory / NEXT_NAME, os.strerror(error.errno or 0)) from None
        finally:
            os.close(fd)
        return offset

    def extend_next(self, generation: int, size: int, bodies: list[tuple[int, bytes]], first: int) -> int:
        """Seal ``bodies`` as frames ``first``… of ``generation``, append them to ``store.log.next`` at ``size`` and
        fdatasync; return its new length. Nothing is renamed: the live log still holds every save."""
        if not bodies:
            return size
        frames = b"".join(
            seal_frame(self._aead, self.store_id, generation, seq, kind, body)
            for seq, (kind, body) in enumerate(bodies, start=first)
        )
        try:
            fd = os.open(self.directory / NEXT_NAME, os.O_WRONLY)
            try:
                _pwrite_all(fd, frames, size)
                os.fdatasync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise StoreWriteFailed(self.directory / NEXT_NAME, os.strerror(error.errno or 0)) from None
        return size + len(frames)

    def switch_to_next(self, generation: int, size: int, frames: int) -> int:
        """Rename ``store.log.next`` (``frames`` frames, ``size`` bytes, all fsynced) over the log and fsync the
        directory. The caller holds the store's lock and has appended every frame saved since the snapshot was
        taken, so no acknowledged save is in the old log only. Returns the new log's length."""
        if generation != self.generation + 1:
            raise ValueError("the next generation must follow the live one")
        try:
            os.replace(self.directory / NEXT_NAME, self.directory / LOG_NAME)
            fsync_dir(self.directory)
        except OSError as error:
            self.drop_next()
            raise StoreWriteFailed(self.directory / LOG_NAME, os.strerror(error.errno or 0)) from None
        os.close(self._fd)
        self._fd = os.open(self.directory / LOG_NAME, os.O_RDWR)
        self.generation, self.frames, self.size = generation, frames, size
        self._write_tail(sync=True)
        return self.size

    def drop_next(self) -> None:
        """Remove an abandoned ``store.log.next``."""
        with contextlib.suppress(OSError):
            (self.directory / NEXT_NAME).unlink()

    def close(self) -> None:
        if self._tail_fd >= 0:
            with contextlib.suppress(OSError):
                os.fdatasync(self._tail_fd)
        for fd in (self._fd, self._tail_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = self._tail_fd = -1


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _write_new(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _pwrite_all(fd, content, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
