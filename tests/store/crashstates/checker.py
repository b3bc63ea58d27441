"""Opening every crash state with the real Store and holding it to what had been acknowledged."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from field_agent.store import Store
from field_agent.store.errors import StoreError, StoreNotFound, WrongPassphrase

from .model import CrashState, Trace, crash_states, fingerprint, materialize, replay
from .recorder import tables_of

STORE = "store"


@dataclass
class Finding:
    """A crash state that breaks a promise: where it is, what was expected, what the store did."""

    state: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.state}\n  expected: {self.expected}\n  got: {self.got}"


@dataclass
class Report:
    points: int = 0
    enumerated: int = 0  # crash states generated (sampled runs: drawn)
    possible: int = 0  # crash states the model allows (may be far more than enumerated)
    distinct: int = 0  # distinct directory contents, each opened once
    outcomes: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    seed: int | None = None  # set for a sampled run

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        if self.seed is None and self.possible == self.enumerated:
            scope = f"all {self.enumerated} crash states of {self.points} crash points"
        elif self.seed is None:
            scope = f"{self.enumerated} of {self.possible} crash states (capped per point) of {self.points} points"
        else:
            scope = f"{self.enumerated} crash states drawn (seed {self.seed}) at {self.points} crash points"
        return (
            f"{scope}, {self.distinct} distinct, opened with the real Store ({kinds}); "
            f"{len(self.findings)} broke a promise"
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


def judge(trace: Trace, state: CrashState, workdir: Path) -> tuple[str, str | None]:
    """Open one materialized crash state; (outcome, what broke a promise or None)."""
    done, inflight = trace.promises(state.point)
    allowed = [done] + ([inflight] if inflight is not None else [])
    passphrases = list(dict.fromkeys(ack.passphrase for ack in allowed))
    store_dir = workdir / STORE
    if done.tables is None and not (store_dir / "store.header").exists():
        return "no store yet", None
    error: StoreError | None = None
    for passphrase in passphrases:
        try:
            store = Store.open(store_dir, passphrase)
        except WrongPassphrase as wrong:
            error = wrong
            continue
        except StoreNotFound as missing:
            if done.tables is None:
                return "no store yet", None
            return "lost", f"{type(missing).__name__}: {missing}"
        except StoreError as refused:
            message = str(refused).strip()
            if not message:
                return "refused", f"{type(refused).__name__} without a message"
            return "failed closed", f"{type(refused).__name__}: {message}"
        except Exception as crashed:  # anything but a StoreError is a traceback for the user
            return "crashed", f"{type(crashed).__name__}: {crashed}"
        with store:
            got = tables_of(store)
        candidates = [ack for ack in allowed if ack.tables is not None]
        if any(ack.tables == got for ack in candidates):
            return "opened intact", None
        return "opened wrong", _changes(done.tables or {}, got)
    return "lost", f"no acknowledged passphrase opens it ({type(error).__name__}: {error})"


def check(
    trace: Trace,
    *,
    grain: int = 512,
    limit_per_point: int = 1 << 12,
    samples: int | None = None,
    seed: int = 0,
    allow_failed_closed: bool = False,
) -> Report:
    """Every crash state of ``trace`` (at most ``limit_per_point`` per point, drawn with ``seed`` beyond that), or
    ``samples`` states drawn at random points. A state fails if it opens without an acknowledged save, opens with
    a state no call ever promised, or cannot be opened at all (unless ``allow_failed_closed`` and it says why)."""
    rng = random.Random(seed)
    report = Report(seed=None if samples is None else seed)
    seen: dict[bytes, tuple[str, str | None]] = {}
    points = range(len(trace.ops) + 1)
    if samples is None:
        plan = [(point, limit_per_point) for point in points]
    else:
        drawn = Counter(rng.choice(points) for _ in range(samples))
        plan = sorted(drawn.items())
    workdir = Path(tempfile.mkdtemp(prefix="crash-state-"))
    try:
        for point, limit in plan:
            states, possible = crash_states(trace, point, grain, limit, rng)
            report.points += 1
            report.possible += possible
            for state in states:
                report.enumerated += 1
                files = replay(trace, state)
                key = fingerprint(files) + point.to_bytes(4, "big")  # the same files may owe different promises
                if key not in seen:
                    for child in workdir.iterdir():
                        shutil.rmtree(child) if child.is_dir() else child.unlink()
                    materialize(files, workdir)
                    seen[key] = judge(trace, state, workdir)
                    report.distinct += 1
                    outcome, problem = seen[key]
                    report.outcomes[outcome] += 1
                    if problem and not (allow_failed_closed and outcome == "failed closed"):
                        done, inflight = trace.promises(point)
                        expected = f"every save up to '{done.label}'" + (
                            f" (and maybe '{inflight.label}')" if inflight else ""
                        )
                        report.findings.append(Finding(state.describe(trace), expected, f"{outcome}: {problem}"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report
