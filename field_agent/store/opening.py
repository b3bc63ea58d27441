"""Creating and unlocking a store directory: header, key, lock, log replay, torn-tail repair."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from field_agent.store import throttle
from field_agent.store.errors import (
    PassphraseNotChanged,
    StoreCorrupted,
    StoreCreateFailed,
    StoreError,
    StoreExists,
    StoreNotFound,
    WrongPassphrase,
)
from field_agent.store.keys import Header, new_header, read_header, write_header
from field_agent.store.lock import LOCK_NAME, StoreLock
from field_agent.store.log import (
    FILE_HEADER_SIZE,
    SNAPSHOT,
    Tables,
    encode_snapshot,
    replay,
    scan_log,
    snapshot_text_bytes,
)
from field_agent.store.passphrase import check_passphrase
from field_agent.store.writer import LOG_NAME, NEXT_NAME, TAIL_NAME, LogWriter, check_against_tail, read_marker

HEADER_NAME = "store.header"


@dataclass
class Unlocked:
    """Everything a Store needs from an opened directory."""

    directory: Path
    header: Header
    data_key: bytes
    lock: StoreLock
    writer: LogWriter
    tables: Tables
    snapshot_bytes: int
    appended_bytes: int
    report: dict[str, Any] | None = field(default=None)


def create_directory(
    path: Path,
    passphrase: str,
    profile: str | None,
    initial: Mapping[str, Mapping[str, Any]],
    *,
    check_strength: bool = True,
) -> tuple[Header, bytes]:
    """Write a new store: log with the initial tables, commit marker, then the header (which makes it a store).

    All or nothing: if anything fails (disk full, I/O error, interrupted), every file and directory made here is
    removed again and StoreCreateFailed says why. Never writes over an existing store's log."""
    if check_strength:
        check_passphrase(passphrase)
    if (path / HEADER_NAME).exists():
        raise StoreExists(path)
    if (path / LOG_NAME).exists():
        raise StoreExists(path, f"{path} holds a store log without its header (store.header)")
    made = _missing_directories(path)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = StoreLock(path)
    except BaseException as error:
        _remove_directories(made)
        if isinstance(error, OSError):
            raise StoreCreateFailed(path, error.strerror or str(error)) from None
        raise
    try:
        header, data_key = new_header(passphrase, profile, time.time_ns() // 10**6)
        LogWriter.create(path, header.store_id, data_key, encode_snapshot(initial))
        write_header(path / HEADER_NAME, header)
    except BaseException as error:
        for name in (HEADER_NAME, HEADER_NAME + ".tmp", LOG_NAME, TAIL_NAME):
            with contextlib.suppress(OSError):
                (path / name).unlink()
        lock.release()
        with contextlib.suppress(OSError):
            (path / LOCK_NAME).unlink()
        _remove_directories(made)
        if isinstance(error, OSError):
            raise StoreCreateFailed(path, error.strerror or str(error)) from None
        raise
    lock.release()
    return header, data_key


def _missing_directories(path: Path) -> list[Path]:
    """The directories ``path.mkdir(parents=True)`` would create, deepest first."""
    missing = []
    for directory in (path, *path.parents):
        if directory.exists():
            break
        missing.append(directory)
    return missing


def _remove_directories(directories: list[Path]) -> None:
    for directory in directories:  # deepest first; only if empty
        with contextlib.suppress(OSError):
            directory.rmdir()


def check_header_present(path: Path) -> None:
    """StoreNotFound if there is no store; StoreCorrupted if its log is there but the header is gone."""
    if (path / HEADER_NAME).exists():
        return
    if (path / LOG_NAME).exists():
        raise StoreCorrupted(
            path / HEADER_NAME,
            None,
            "the header, which holds the wrapped data key, is missing",
        )
    raise StoreNotFound(path)


def unlock_key(path: Path, passphrase: str) -> tuple[Header, bytes]:
    """The header and data key; WrongPassphrase (after the back-off delay) if the passphrase does not fit."""
    header_path = path / HEADER_NAME
    check_header_present(path)
    header = read_header(header_path)
    throttle.wait_before_try(path)
    data_key = header.unwrap(passphrase)
    if data_key is None:
        raise WrongPassphrase(throttle.record_failure(path))
    throttle.record_success(path)
    return header, data_key


def open_directory(path: Path, passphrase: str, *, unlocked: tuple[Header, bytes] | None = None) -> Unlocked:
    """Lock, unlock and load a store; drop (and report) a torn last frame; fail closed on any other damage.

    ``unlocked`` (header, data key) skips key derivation for a store this process has just created."""
    check_header_present(path)
    try:
        return _open_directory(path, passphrase, unlocked)
    except OSError as error:
        raise StoreError(f"cannot open the store at {path}: {error.strerror or error}") from None


def _open_directory(path: Path, passphrase: str, unlocked: tuple[Header, bytes] | None) -> Unlocked:
    lock = StoreLock(path)
    try:
        remove_temp_files(path)
        header, data_key = unlocked or unlock_key(path, passphrase)
        scan = scan_log(path / LOG_NAME, header.store_id, data_key)
        if scan.damage:
            scan.forgive_torn_tail(read_marker(path, data_key, header.store_id))
        if scan.damage:
            raise scan.damage[0]
        warning = check_against_tail(path, scan, data_key, header.store_id)
        if not scan.frames or scan.frames[0].kind != SNAPSHOT:
            raise StoreCorrupted(path / LOG_NAME, FILE_HEADER_SIZE, "the log's first frame (the snapshot) is missing")
        tables = replay(scan.frames)
        # the garbage ratio of the file, whichever process wrote it: what follows the snapshot against the snapshot
        snapshot_bytes = snapshot_text_bytes(scan.frames[0].body)
        appended_bytes = sum(len(frame.body) for frame in scan.frames[1:])
        writer = LogWriter(path, header.store_id, data_key, scan.generation, len(scan.frames), scan.end)
    except BaseException:
        lock.release()
        raise
    if scan.torn_bytes:
        try:
            writer.truncate_torn_tail(scan.end)
        except BaseException:
            writer.close()
            lock.release()
            raise
    report: dict[str, Any] = {}
    if scan.torn_bytes:
        report["torn_bytes"] = scan.torn_bytes
        report["torn_offset"] = scan.end
        report["message"] = (
            f"an unfinished save was found at the end of {path / LOG_NAME} (byte {scan.end}, {scan.torn_bytes} "
            "bytes) and dropped; every save that had completed is intact"
        )
    if warning:
        report["warning"] = warning
        report["message"] = " ".join(filter(None, (report.get("message"), warning)))
    return Unlocked(path, header, data_key, lock, writer, tables, snapshot_bytes, appended_bytes, report or None)


def change_passphrase(path: Path, old: str, new: str, profile: str | None = None, *, lock_held: bool = False) -> None:
    """Re-wrap the data key under a new passphrase: one atomic header replace, no data rewrite."""
    check_passphrase(new)
    check_header_present(path)
    try:
        lock = None if lock_held else StoreLock(path)
    except OSError as error:
        raise PassphraseNotChanged(path, error.strerror or str(error)) from None
    try:
        header, data_key = unlock_key(path, old)
        write_header(path / HEADER_NAME, header.rewrapped(data_key, new, profile))
    except OSError as error:  # the header is replaced atomically: the old one is still in place
        with contextlib.suppress(OSError):
            (path / (HEADER_NAME + ".tmp")).unlink()
        raise PassphraseNotChanged(path, error.strerror or str(error)) from None
    finally:
        if lock is not None:
            lock.release()


def remove_temp_files(path: Path) -> None:
    """Leftovers of an interrupted compaction or header write (never the live files)."""
    for name in (LOG_NAME + ".tmp", NEXT_NAME, HEADER_NAME + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            (path / name).unlink()
