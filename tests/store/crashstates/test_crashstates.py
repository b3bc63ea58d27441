"""Crash states proven, not sampled: every state a crash could leave during a recorded run, opened with the real
Store (see model.py for the file-system model, docs/STORE.md "Crash states" for the method and the count).

A save is acknowledged when ``Store.put`` returns; a passphrase change when ``passwd`` returns. Each crash state
must open holding exactly the tables of the last acknowledged call (or of the call in flight, which is atomic), under
a passphrase that was acknowledged; the count of states checked is printed in the test summary.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from field_agent.store import Store

from .checker import SCRATCH, Finding, Report, check
from .model import ROOT, Op, Trace, crash_states, pieces, replay
from .recorder import Recorder, recording, tables_of
from .scenarios import OLD, Steps, long_run, recovery_run, small_run

SEED = int(os.environ.get("FIELD_AGENT_CRASH_SEED", "20261205"))
LONG_SAMPLES = int(os.environ.get("FIELD_AGENT_CRASH_SAMPLES", "800"))
SECTOR = 512


def shown(findings: list[Finding]) -> str:
    return "\n".join(str(finding) for finding in findings[:5])


@pytest.fixture(scope="module")
def small() -> Iterator[tuple[Trace, Report]]:
    base = Path(tempfile.mkdtemp(prefix="crash-run-", dir=SCRATCH))
    try:
        trace = small_run(base)
        yield trace, check(trace, grain=SECTOR)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_every_crash_state_of_a_small_run_keeps_every_acknowledged_save(
    small: tuple[Trace, Report], record_property: Callable[[str, object], None]
) -> None:
    """Create, 8 saves, a compaction, a passphrase change and a compaction in the background (a save between
    its snapshot and its switch): every prefix of the file operations, and after the
    last barrier every subset of the writes (torn at 512-byte sectors) and every prefix of the directory changes."""
    trace, report = small
    record_property("crash_states", f"exhaustive small run: {report.summary()}")
    print(f"\ncrash states, exhaustive small run: {report.summary()}")
    assert report.possible == report.enumerated, "the small run must be exhaustive"
    assert report.points == len(trace.ops) + 1
    assert report.outcomes["opened intact"] > 100
    assert not report.losses, shown(report.losses)


def test_every_crash_state_of_a_small_run_opens(small: tuple[Trace, Report]) -> None:
    _trace, report = small
    assert not report.refusals, shown(report.refusals)


def test_sampled_crash_states_of_a_long_run_keep_every_acknowledged_save(
    scratch: Path, record_property: Callable[[str, object], None]
) -> None:
    """60 calls (saves, batches, deletes) with automatic compactions in the background (saves made while the
    snapshot is built and written, re-sealed into the new log at the switch), two passphrase changes and a reopen;
    crash states drawn with a fixed seed (FIELD_AGENT_CRASH_SEED, FIELD_AGENT_CRASH_SAMPLES to explore further)."""
    steps = Steps(random.Random(SEED + 1))
    trace = long_run(scratch, seed=SEED, steps=steps)
    assert sum(op.kind == "rename" for op in trace.ops) >= 4  # compactions and passphrase changes did happen
    assert steps.switched >= 2 and steps.with_saves >= 2, vars(steps)  # the background path did run
    report = check(trace, grain=SECTOR, samples=LONG_SAMPLES, seed=SEED)
    record_property("crash_states", f"sampled long run: {report.summary()}")
    print(f"\ncrash states, sampled long run: {report.summary()}")
    assert report.outcomes["opened intact"] > LONG_SAMPLES // 4
    assert not report.losses, shown(report.losses)


# -- the checker can fail: broken store variants ----------------------------------------------------------------


def skipping(call: str, suffix: str) -> Callable[[Recorder], None]:
    def install(recorder: Recorder) -> None:
        recorder.veto = lambda made, path: not (made == call and path.endswith(suffix))

    return install


def test_checker_finds_a_save_acknowledged_before_its_fsync(scratch: Path) -> None:
    """A store whose save returns without fdatasync of the log: some crash state lacks an acknowledged save."""
    trace = small_run(scratch, skipping("fdatasync", "store.log"))
    report = check(trace, grain=0)
    lost = [finding for finding in report.losses if finding.outcome == "opened wrong"]
    assert lost, report.summary()
    assert "records: missing" in lost[0].got


def test_checker_finds_a_rename_before_the_fsync_of_its_data(scratch: Path) -> None:
    """Compaction and header replacement renaming a temp file whose data was never fsynced: the log or the header
    can be empty after a crash, and the acknowledged saves are gone for good."""
    trace = small_run(scratch, skipping("fsync", ".tmp"))
    report = check(trace, grain=0)
    gone = [str(finding) for finding in report.losses if finding.outcome == "failed closed, saves gone"]
    assert any("does not start with a Field Agent log header" in finding for finding in gone), report.summary()
    assert any("header is damaged" in finding for finding in gone), report.summary()


def test_checker_finds_a_switch_to_a_next_generation_never_fsynced(scratch: Path) -> None:
    """A background compaction renaming ``store.log.next`` over the log before fsyncing it: a crash can leave a
    log without the saves it re-sealed (or without any frame), and the checker sees it."""

    def install(recorder: Recorder) -> None:  # neither its fsync nor its fdatasyncs
        recorder.veto = lambda _made, path: not path.endswith("store.log.next")

    trace = small_run(scratch, install)
    report = check(trace, grain=0)
    assert report.losses, report.summary()


# -- the model itself ---------------------------------------------------------------------------------------------


def test_a_rename_is_durable_only_after_its_directory_is_fsynced() -> None:
    data = b"x" * 700
    trace = Trace(
        ops=[
            Op("link", 1, ROOT, "a.tmp"),
            Op("write", 1, offset=0, data=data),
            Op("fsync", 1),
            Op("rename", 1, ROOT, "a.tmp", dir2=ROOT, name2="a"),
            Op("fsync", ROOT),
        ]
    )
    rng = random.Random(0)

    def outcomes(point: int) -> list[dict[str, bytes | None]]:
        states, total = crash_states(trace, point, SECTOR, 100, rng)
        assert len(states) == total
        return [replay(trace, state) for state in states]

    # the data is durable, the link and the rename are not (kept in order: neither, the link, both)
    assert outcomes(4) == [{}, {"a.tmp": data}, {"a": data}]
    assert outcomes(5) == [{"a": data}]
    # before the file's fsync: each 512-byte sector of the write is kept or lost on its own (a lost first sector
    # leaves zeros), whether or not the name made it
    assert {"a.tmp": b"x" * 512} in outcomes(2)
    assert {"a.tmp": bytes(512) + b"x" * 188} in outcomes(2)
    assert len(outcomes(2)) == 2 * 2**2
    assert pieces(trace.ops[1], SECTOR) == [(0, 512), (512, 700)]


def test_a_crash_during_recovery_from_a_torn_save_loses_nothing(
    small: tuple[Trace, Report], scratch: Path, record_property: Callable[[str, object], None]
) -> None:
    """Every crash state of the small run that opened by cutting off a torn save is opened again while recording
    (the truncate and its fsync), saved to and closed; every crash state of that recovery is checked in turn."""
    _trace, first = small
    assert len(first.survivors) >= 5
    total = Report()
    for number, survivor in enumerate(first.survivors):
        trace, start = recovery_run(scratch / str(number), survivor)
        assert any(op.kind == "trunc" for op in trace.ops[start:])
        report = check(trace, grain=SECTOR, start=start)
        total.points += report.points
        total.enumerated += report.enumerated
        total.possible += report.possible
        total.distinct += report.distinct
        total.outcomes.update(report.outcomes)
        total.findings += report.findings
    summary = f"recovery from {len(first.survivors)} torn saves: {total.summary()}"
    record_property("crash_states", summary)
    print(f"\ncrash states, {summary}")
    assert not total.losses, shown(total.losses)


def test_a_write_that_bypasses_the_recorded_seam_is_caught(scratch: Path) -> None:
    """The model is only as good as the recording: a file the store changed behind the recorder's back (here, a
    plain write into the store directory) makes the next acknowledgement fail instead of silently checking less."""
    with recording(scratch) as recorder, Store.create(scratch / "store", OLD, grid="grid-1") as store:
        recorder.ack("create", tables_of(store), OLD)
        (scratch / "store" / "store.tail").write_bytes(b"written around the seam")
        with pytest.raises(AssertionError, match=r"store/store\.tail"):
            recorder.ack("after", tables_of(store), OLD)
