"""``field-agent verify``: check every byte of a store; ``--salvage OUT``: copy every intact record out.

Neither changes the store being checked, and neither takes its lock (so a store that will not open, or is open in
the terminal app, can still be checked and rescued). Verify reads the commit marker *before* the log: the marker is
only written after its frames are durable, so the log read next holds at least what it promises, whatever another
process is saving meanwhile. A save caught half-written is read again rather than reported.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from field_agent.domain.envelope import change_stamps, is_deleted
from field_agent.domain.hlc import STAMP_RE, stamp_node
from field_agent.domain.ids import new_node_id
from field_agent.store.errors import StoreCorrupted, StoreError
from field_agent.store.log import ScanResult, read_log, replay, scan_log
from field_agent.store.opening import create_directory, unlock_key
from field_agent.store.writer import LOG_NAME, TAIL_NAME, check_against_tail, decode_tail

READ_TRIES = 20  # re-reads while another process is in the middle of a save
# device credentials that belong to one node id (docs/SYNC.md): useless once the node id is new
CREDENTIALS = ("token", "device_id")
# set on a salvaged copy: its next sync pulls every record again, its own pushes too (field_agent/sync/agent.py)
PULL_EVERYTHING_KEY = "pull_everything"


@dataclass
class VerifyReport:
    """What verify found. ``ok`` is False when any damage was found (a torn tail alone is not damage)."""

    path: Path
    frames: int = 0
    log_bytes: int = 0
    torn_bytes: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    records: int = 0
    deleted: int = 0
    pending_changes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "frames": self.frames,
            "log_bytes": self.log_bytes,
            "torn_bytes": self.torn_bytes,
            "problems": self.problems,
            "warnings": self.warnings,
            "repairs": self.repairs,
            "records": self.records,
            "deleted": self.deleted,
            "pending_changes": self.pending_changes,
        }


def _read_tail(path: Path) -> bytes | None:
    try:
        return (path / TAIL_NAME).read_bytes()
    except FileNotFoundError:
        return None


def _read_log(path: Path) -> tuple[bytes, tuple[int, int]]:
    """The log's bytes and (inode, size) of the file they came from."""
    log_path = path / LOG_NAME
    try:
        with log_path.open("rb") as file:
            inode = os.fstat(file.fileno()).st_ino
            data = file.read()
    except FileNotFoundError:
        data = read_log(log_path)  # raises StoreCorrupted: the log is missing
    return data, (inode, len(data))


def _unchanged(path: Path, tail: bytes | None, log_identity: tuple[int, int]) -> bool:
    try:
        stat = os.stat(path / LOG_NAME)
    except FileNotFoundError:
        return False
    return (stat.st_ino, stat.st_size) == log_identity and _read_tail(path) == tail


def _consistent_scan(path: Path, store_id: bytes, data_key: bytes) -> tuple[ScanResult, tuple[int, int, int] | None]:
    """Scan the log against the commit marker read before it. A torn tail, damage or an unreadable marker found
    while the files were changing under us (a save in progress elsewhere) is read again; if the files are still
    changing after READ_TRIES reads, the last read stands (the marker was read first, so no completed save can
    look missing)."""
    for _ in range(READ_TRIES):
        tail = _read_tail(path)
        data, log_identity = _read_log(path)
        marker = decode_tail(tail, data_key, store_id) if tail is not None else None
        scan = scan_log(path / LOG_NAME, store_id, data_key, salvage=True, data=data)
        scan.forgive_torn_tail(marker)
        clean = not scan.torn_bytes and not scan.damage and (tail is None or marker is not None)
        if clean:
            break
        if _unchanged(path, tail, log_identity):
            return scan, marker
    if scan.torn_bytes and not scan.damage:
        # still growing after every read: that unfinished frame is a save being written right now, not a torn one
        scan.torn_bytes = 0
    return scan, marker


def _intact_tables(path: Path, passphrase: str) -> tuple[VerifyReport, dict[str, Any], dict[str, Any]]:
    header, data_key = unlock_key(path, passphrase)
    report = VerifyReport(path)
    scan, marker = _consistent_scan(path, header.store_id, data_key)
    report.frames = len(scan.frames)
    report.log_bytes = scan.size
    report.torn_bytes = scan.torn_bytes
    report.problems.extend(str(damage) for damage in scan.damage)
    if scan.recovered:
        report.warnings.append(
            f"{len(scan.recovered)} frame(s) with a damaged length field are themselves intact; salvage keeps them"
        )
    if scan.torn_bytes:
        report.warnings.append(f"an unfinished save of {scan.torn_bytes} bytes at the end will be dropped on open")
    if not scan.damage:
        try:
            warning = check_against_tail(path, scan, data_key, header.store_id, marker=marker)
        except StoreCorrupted as error:
            report.problems.append(str(error))
        else:
            if warning:
                report.warnings.append(warning)
    if scan.frames and scan.frames[0].seq != 0:
        report.problems.append("the first snapshot frame is missing; later frames were replayed on an empty store")
    tables: dict[str, Any] = replay(scan.frames)  # packed tables, read and changed as mappings
    if not _valid_node(_meta_value(tables, "node_id")):
        report.problems.append(
            "the store has no device identity (node id); 'field-agent verify --salvage OUT' gives the copy one"
        )
    records = tables.get("records", {})
    report.records = sum(1 for envelope in records.values() if not is_deleted(envelope))
    report.deleted = len(records) - report.records
    report.pending_changes = len(tables.get("pending", {})) + len(
        (tables.get("inflight", {}).get("batch") or {}).get("changes", [])
    )
    return report, tables, header.kdf


def verify(path: Path, passphrase: str) -> VerifyReport:
    """Authenticate every frame and the commit marker; count what an open would load."""
    path = Path(path)
    try:
        return _intact_tables(path, passphrase)[0]
    except OSError as error:
        raise StoreError(f"cannot read the store at {path}: {error.strerror or error}") from None


def salvage(path: Path, passphrase: str, out: Path) -> VerifyReport:
    """Write every intact record (and outbox entry) into a new store at ``out``, same passphrase.

    The sync cursor is reset so the next sync pulls everything again and refills whatever was lost, the records
    this device pushed itself included (``PULL_EVERYTHING_KEY``: until one pull has gone through to the end). A device
    identity lost with a damaged frame is restored (from this device's own stamps, else a new one), so the copy
    opens; the report's ``repairs`` say what was restored and whether the device must be enrolled again.
    """
    path = Path(path)
    try:
        report, tables, kdf = _intact_tables(path, passphrase)
    except OSError as error:
        raise StoreError(f"cannot read the store at {path}: {error.strerror or error}") from None
    report.repairs.extend(restore_identity(tables))
    meta = tables.setdefault("meta", {})
    meta["cursor"] = {"v": 0}
    meta[PULL_EVERYTHING_KEY] = {"v": True}  # its own pushes too, which pulls otherwise leave out
    create_directory(Path(out), passphrase, kdf.get("profile"), tables, check_strength=False)
    return report


# -- the device identity of a salvaged store ---------------------------------------------------------------------


def _meta_value(tables: dict[str, Any], key: str) -> Any:
    entry = tables.get("meta", {}).get(key)
    return entry.get("v") if isinstance(entry, dict) else None


def _valid_node(node: Any) -> bool:
    return isinstance(node, str) and re.fullmatch("[0-9a-f]{12}", node) is not None


def _own_node(tables: dict[str, Any]) -> str | None:
    """This device's node id from what only this device stamps: its saved clock, else its unsent changes."""
    clock = _meta_value(tables, "clock")
    if isinstance(clock, str) and STAMP_RE.match(clock):
        return stamp_node(clock)
    nodes: Counter[str] = Counter()
    changes = [entry["change"] for entry in tables.get("pending", {}).values() if isinstance(entry, dict)]
    changes.extend((tables.get("inflight", {}).get("batch") or {}).get("changes", []))
    for change in changes:
        if not isinstance(change, dict):
            continue
        try:
            nodes.update(stamp_node(stamp) for stamp in change_stamps(change) if STAMP_RE.match(stamp))
        except (KeyError, TypeError, AttributeError):
            continue
    return nodes.most_common(1)[0][0] if nodes else None


def _newest_stamp(records: dict[str, Any]) -> str | None:
    newest = None
    for envelope in records.values():
        for stamp in envelope.get("stamps", {}).values():
            if isinstance(stamp, str) and (newest is None or stamp > newest):
                newest = stamp
    return newest


def restore_identity(tables: dict[str, Any]) -> list[str]:
    """Give tables whose settings lost the device identity a node id (and grid, clock) again; say what was done."""
    meta = tables.setdefault("meta", {})
    notes: list[str] = []
    if not _valid_node(_meta_value(tables, "node_id")):
        node = _own_node(tables)
        if node is not None:
            notes.append(
                f"the device identity (node id) was lost with a damaged frame; it was recovered ({node}) from the "
                "device's own saved stamps"
            )
        else:
            node = new_node_id()
            dropped = [key for key in CREDENTIALS if key in meta]
            for key in dropped:
                del meta[key]
            notes.append(
                f"the device identity (node id) was lost with a damaged frame and left no trace; the copy has a new "
                f"one ({node})" + (" and the old enrolment was set aside" if dropped else "")
            )
        meta["node_id"] = {"v": node}
        if not _meta_value(tables, "token"):
            notes.append(
                "the copy holds no server enrolment: enrol it again before syncing ('field-agent --store OUT enroll "
                "URL CODE' with a new code from the town office, which revokes the old enrolment first if it still "
                "lists this device); every record, including the unsent changes, stays in the copy"
            )
    records = tables.get("records", {})
    if not _meta_value(tables, "grid"):
        grids = {envelope.get("grid") for envelope in records.values()}
        if len(grids) == 1 and isinstance(grid := next(iter(grids)), str) and grid:
            meta["grid"] = {"v": grid}
            notes.append(f"the grid id was lost with a damaged frame; every record belongs to {grid}, so it was kept")
    if not _meta_value(tables, "clock") and (newest := _newest_stamp(records)) is not None:
        meta["clock"] = {"v": newest}  # the clock resumes after every stamp the copy holds
    return notes
