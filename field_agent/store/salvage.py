"""``field-agent verify``: check every byte of a store; ``--salvage OUT``: copy every intact record out.

Neither changes the store being checked, and neither takes its lock (so a store that will not open can still be
checked and rescued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from field_agent.domain.envelope import is_deleted
from field_agent.store.errors import StoreCorrupted
from field_agent.store.log import replay, scan_log
from field_agent.store.opening import create_directory, unlock_key
from field_agent.store.writer import LOG_NAME, check_against_tail, read_marker


@dataclass
class VerifyReport:
    """What verify found. ``ok`` is False when any damage was found (a torn tail alone is not damage)."""

    path: Path
    frames: int = 0
    log_bytes: int = 0
    torn_bytes: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
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
            "records": self.records,
            "deleted": self.deleted,
            "pending_changes": self.pending_changes,
        }


def _intact_tables(path: Path, passphrase: str) -> tuple[VerifyReport, dict[str, Any], dict[str, Any]]:
    header, data_key = unlock_key(path, passphrase)
    report = VerifyReport(path)
    scan = scan_log(path / LOG_NAME, header.store_id, data_key, salvage=True)
    scan.forgive_torn_tail(read_marker(path, data_key, header.store_id))
    report.frames = len(scan.frames)
    report.log_bytes = (path / LOG_NAME).stat().st_size
    report.torn_bytes = scan.torn_bytes
    report.problems.extend(str(damage) for damage in scan.damage)
    if scan.torn_bytes:
        report.warnings.append(f"an unfinished save of {scan.torn_bytes} bytes at the end will be dropped on open")
    if not scan.damage:
        try:
            warning = check_against_tail(path, scan, data_key, header.store_id)
        except StoreCorrupted as error:
            report.problems.append(str(error))
        else:
            if warning:
                report.warnings.append(warning)
    if scan.frames and scan.frames[0].seq != 0:
        report.problems.append("the first snapshot frame is missing; later frames were replayed on an empty store")
    tables = replay(scan.frames)
    records = tables.get("records", {})
    report.records = sum(1 for envelope in records.values() if not is_deleted(envelope))
    report.deleted = len(records) - report.records
    report.pending_changes = len(tables.get("pending", {})) + len(
        (tables.get("inflight", {}).get("batch") or {}).get("changes", [])
    )
    return report, tables, header.kdf


def verify(path: Path, passphrase: str) -> VerifyReport:
    """Authenticate every frame and the commit marker; count what an open would load."""
    return _intact_tables(Path(path), passphrase)[0]


def salvage(path: Path, passphrase: str, out: Path) -> VerifyReport:
    """Write every intact record (and outbox entry) into a new store at ``out``, same passphrase.

    The sync cursor is reset so the next sync pulls everything again and refills whatever was lost.
    """
    report, tables, kdf = _intact_tables(Path(path), passphrase)
    meta = tables.setdefault("meta", {})
    meta["cursor"] = {"v": 0}
    create_directory(Path(out), passphrase, kdf.get("profile"), tables, check_strength=False)
    return report
