"""Opening every crash state with the real Store and holding it to what had been acknowledged."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from field_agent.store import Store
from field_agent.store.errors import StoreError, StoreNotFound, WrongPassphrase
from field_agent.store.keys import read_header
from field_agent.store.log import plain_tables, scan_log
from field_agent.store.log import replay as replay_frames

from .model import Ack, CrashState, Trace, crash_states, fingerprint, materialize, replay
from .recorder import tables_of

STORE = "store"
# Crash states are rebuilt and opened in memory when possible: the model, not the disk, decides what is durable,
# and a thousand opens each ending in an fsync would otherwise wait on the shared disk.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
INTACT = "opened intact"
TORN = "opened intact, torn save dropped"
REFUSED = "failed closed"  # with every acknowledged save still in intact frames (salvage gets them back)
REFUSED_LOST = "failed closed, saves gone"


@dataclass
class Finding:
    """A crash state that breaks a promise: where it is, what was expected, what the store did."""

    outcome: str
    state: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.state}\n  expected: {self.expected}\n  got: {self.outcome}: {self.got}"


@dataclass
class Survivor:
    """A crash state the store opened after dropping a torn save: the start of a recovery run."""

    files: dict[str, bytes | None]
    tables: dict
    passphrase: str


@dataclass
class Report:
    points: int = 0
    enumerated: int = 0  # crash states generated (sampled runs: drawn)
    possible: int = 0  # crash states the model allows at the points visited
    distinct: int = 0  # distinct (directory contents, promises), each opened once
    outcomes: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    survivors: list[Survivor] = field(default_factory=list)
    seed: int | None = None  # set for a sampled run

    @property
    def losses(self) -> list[Finding]:
        """Acknowledged saves gone or changed, a store that vanished, or a traceback instead of a message."""
        return [finding for finding in self.findings if finding.outcome != REFUSED]

    @property
    def refusals(self) -> list[Finding]:
        """States the store refused to open (with a message) though their intact frames hold every acknowledged
        save (``verify --salvage`` gets them back)."""
        return [finding for finding in self.findings if finding.outcome == REFUSED]

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        if self.seed is None and self.possible == self.enumerated:
            scope = f"all {self.enumerated} crash states of {self.points} crash points"
        elif self.seed is None:
            scope = f"{self.enumerated} of {self.possible} crash states (capped per point) of {self.points} points"
        else:
            scope = f"{self.enumerated} crash states drawn (seed {self.seed}) at {self.points} crash points"
        return (
            f"{scope}, {self.distinct} distinct, each opened with the real Store ({kinds}): "
            f"{len(self.losses)} lost an acknowledged save, {len(self.refusals)} refused to open (all acknowledged "
            "saves still in intact frames)"
        )


def _changes(expected: dict, got: dict) -> str:
    """What an opened store lacks or has wrong, by table and document id (no values: they may be personal)."""
    notes = []
    for name in sorted(set(expected) | set(got)):
        want, have = expected.get(name, {}), got.get(name, {})
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        wrong = sorted(key for key in set(want) & set(have) if want[key] != have[key])
        for label, keys in (("missing", missing), ("unexpected", extra), ("different", wrong)):
            if keys:
                notes.append(f"{name}: {label} {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}")
    return "; ".join(notes) or "same"


def judge(trace: Trace, point: int, workdir: Path) -> tuple[str, str | None, Survivor | None]:
    """Open the crash state materialized in ``workdir``: (outcome, what broke a promise or None, survivor)."""
    done, inflight = trace.promises(point)
    allowed = [done] + ([inflight] if inflight is not None else [])
    store_dir = workdir / STORE
    if done.tables is None and not (store_dir / "store.header").exists():
        return "no store yet", None, None
    error: StoreError | None = None
    for passphrase in dict.fromkeys(ack.passphrase for ack in allowed):
        try:
            store = Store.open(store_dir, passphrase)
        except WrongPassphrase as wrong:
            error = wrong
            continue
        except StoreNotFound as missing:
            if done.tables is None:
                return "no store yet", None, None
            return "lost", f"{type(missing).__name__}: {missing}", None
        except StoreError as refused:
            message = str(refused).strip()
            if not message:
                return "refused silently", f"{type(refused).__name__} without a message", None
            outcome = REFUSED if salvageable(store_dir, passphrase, allowed) else REFUSED_LOST
            return outcome, f"{type(refused).__name__}: {message}", None
        except Exception as crashed:  # anything but a StoreError is a traceback for the user
            return "crashed", f"{type(crashed).__name__}: {crashed}", None
        with store:
            got = tables_of(store)
            torn = bool((store.open_report or {}).get("torn_bytes"))
        if not any(ack.tables == got for ack in allowed if ack.tables is not None):
            return "opened wrong", _changes(done.tables or {}, got), None
        return (TORN, None, Survivor({}, got, passphrase)) if torn else (INTACT, None, None)
    return "lost", f"no acknowledged passphrase opens it ({type(error).__name__}: {error})", None


def salvageable(store_dir: Path, passphrase: str, allowed: list[Ack]) -> bool:
    """Whether the intact frames of a store that refused to open still hold an acknowledged state."""
    try:
        header = read_header(store_dir / "store.header")
        data_key = header.unwrap(passphrase)
        if data_key is None:
            return False
        scan = scan_log(store_dir / "store.log", header.store_id, data_key, salvage=True)
        tables = replay_frames(scan.frames)
    except (StoreError, OSError, ValueError):
        return False
    got = {name: table for name, table in plain_tables(tables).items() if table}
    return any(ack.tables == got for ack in allowed if ack.tables is not None)


def check(
    trace: Trace,
    *,
    grain: int = 512,
    limit_per_point: int = 1 << 12,
    samples: int | None = None,
    seed: int = 0,
    start: int = 0,
) -> Report:
    """Every crash state of ``trace`` from operation ``start`` on (at most ``limit_per_point`` per point, drawn with
    ``seed`` beyond that), or ``samples`` states drawn at random points."""
    rng = random.Random(seed)
    report = Report(seed=None if samples is None else seed)
    seen: set[bytes] = set()
    points = range(start, len(trace.ops) + 1)
    if samples is None:
        plan = [(point, limit_per_point) for point in points]
    else:
        plan = sorted(Counter(rng.choice(points) for _ in range(samples)).items())
    workdir = Path(tempfile.mkdtemp(prefix="crash-state-", dir=SCRATCH))
    try:
        for point, limit in plan:
            states, possible = crash_states(trace, point, grain, limit, rng)
            report.points += 1
            report.possible += possible
            for state in states:
                report.enumerated += 1
                files = replay(trace, state)
                done, inflight = trace.promises(point)
                key = fingerprint(files) + repr((done.position, inflight and inflight.position)).encode()
                if key in seen:  # the same files owing the same promises
                    continue
                seen.add(key)
                report.distinct += 1
                _check_one(trace, state, files, workdir, report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def _check_one(trace: Trace, state: CrashState, files: dict, workdir: Path, report: Report) -> None:
    for child in workdir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    materialize(files, workdir)
    outcome, problem, survivor = judge(trace, state.point, workdir)
    report.outcomes[outcome] += 1
    if survivor is not None:
        survivor.files = files
        report.survivors.append(survivor)
    if problem:
        done, inflight = trace.promises(state.point)
        expected = f"every save up to '{done.label}'" + (f" (or also '{inflight.label}')" if inflight else "")
        report.findings.append(Finding(outcome, state.describe(trace), expected, problem))
