"""The soak, shortened: real server, real tablets, every fault kind, and the end-of-day checks must all hold.

The run itself is ``bench/soak.py`` in a subprocess (as a person would run it); the checks it relies on are tested
here too, so a soak that silently stopped checking would fail.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.soak.ledger import Item, Ledger, check_day
from bench.soak.server import postgres_reachable

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


FAULT_KINDS = (
    "server-kill", "kill-save", "kill-sync", "clock", "disk-full", "revoke", "replace", "torn-frame", "forged-frame",
    "wrong-grid", "mode", "clock-bound", "leader-only",
)  # fmt: skip


def run_soak(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "soak.py"), "--workdir", str(tmp_path / "run"), "--json", str(report), *args],
        capture_output=True,
        text=True,
        timeout=280,
    )
    return done, orjson.loads(report.read_bytes()) if report.exists() else []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_short_soak_holds_every_promise_under_every_fault(tmp_path: Path) -> None:
    done, reports = run_soak(
        tmp_path, "--days", "3", "--devices", "6", "--households", "16", "--db", "sqlite", "--cut-rate", "0.6"
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    (report,) = reports
    assert report["clean"] and not report["problems"]
    kinds = {entry[2] for entry in report["faults"]}
    assert set(FAULT_KINDS) <= kinds, f"fault kinds never injected: {set(FAULT_KINDS) - kinds}"
    assert report["cuts"] >= 3
    days = report["checks"]
    assert [day["day"] for day in days] == [1, 2, 3]
    for day in days:
        assert day["acked"] > 0 and day["on_server"] == day["expected_on_server"]
        assert not day["missing"] and not day["duplicated"] and not day["phantom"] and not day["disagreeing"]
        assert day["devices_checked"] == 6
        assert day["conflicts_expected"] == day["conflicts_found"]
        assert day["refused_expected"] == day["refused_found"] and not day["refusal_problems"]
    # refusals stay listed on the tablet: the wrong grid from day 1, a clock past the bound on day 2 (every edit of
    # that tablet's round), a worker's mode switch on day 3
    assert days[0]["refused_codes"] == {"wrong_grid": 1}
    assert days[1]["refused_codes"]["stamp_in_future"] >= 3
    assert set(days[2]["refused_codes"]) == {"wrong_grid", "stamp_in_future", "leader_only"}
    bound = [detail for _, _, kind, detail in report["faults"] if kind == "clock-bound"]
    assert len(bound) == 2 and "+9 days" in bound[0] and "date set right" in bound[1], bound
    assert days[-1]["conflicts_found"] > 0
    assert sum(day["lost_expected"] for day in days) > 0
    assert "| day |" in done.stdout and "CLEAN" in done.stdout


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_short_soak_on_postgresql(tmp_path: Path) -> None:
    why = postgres_reachable()
    if why is not None:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {why}")
    done, reports = run_soak(tmp_path, "--days", "2", "--devices", "4", "--households", "12", "--db", "postgres")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert reports[0]["db"] == "postgres" and reports[0]["clean"]


# -- the checks themselves can fail ---------------------------------------------------------------------------------

GRID = "g1"
STAMP = "001764000000000-00000-aaaaaaaaaaaa"
LATER = "001764000000001-00000-bbbbbbbbbbbb"


def _envelope(record_id: str, notes: str, stamp: str) -> dict:
    return {
        "id": record_id, "kind": "household", "grid": GRID, "fields": {"notes": notes},
        "stamps": {"notes": stamp}, "sets": {}, "conflicts": {},
    }  # fmt: skip


def _acked(ledger: Ledger, key: str, record_id: str, notes: str, stamp: str, *, create: bool = False) -> None:
    ledger.plan(Item(key, "aaaaaaaaaaaa", 1, create=create))
    ledger.event("aaaaaaaaaaaa", {"ev": "attempt", "key": key, "record": record_id})
    ledger.event(
        "aaaaaaaaaaaa",
        {"ev": "ack", "key": key, "record": record_id, "kind": "household", "grid": GRID, "stamps": {"notes": stamp},
         "values": {"notes": notes}, "base": {"notes": None}, "sets": {}, "resolved": {}},
    )  # fmt: skip


def _dump(records: list[dict]) -> dict:
    return {"grid": GRID, "records": records, "pending": 0, "refused": [], "node": "aaaaaaaaaaaa"}


def test_checks_pass_when_server_and_devices_hold_every_save() -> None:
    ledger = Ledger()
    _acked(ledger, "k1", "r1", "ok", STAMP, create=True)
    server = {GRID: {"r1": _envelope("r1", "ok", STAMP)}}
    checks = check_day(1, ledger, server, {"d": _dump([_envelope("r1", "ok", STAMP)])})
    assert checks.clean and checks.on_server == checks.expected_on_server == 1


def test_checks_catch_a_lost_save_a_phantom_and_a_disagreeing_device() -> None:
    ledger = Ledger()
    _acked(ledger, "k1", "r1", "ok", STAMP, create=True)
    server = {GRID: {"r9": _envelope("r9", "?", STAMP)}}
    checks = check_day(1, ledger, server, {"d": _dump([_envelope("r1", "ok", STAMP)])})
    assert len(checks.missing) == 1 and "not on the server" in checks.missing[0]
    assert len(checks.phantom) == 1 and len(checks.disagreeing) == 1


def test_checks_catch_a_save_twice_on_the_server_and_an_unflagged_conflict() -> None:
    ledger = Ledger()
    _acked(ledger, "k1", "r1", "ok", STAMP, create=True)
    ledger.event("aaaaaaaaaaaa", {"ev": "attempt", "key": "k1", "record": "r2"})  # re-entered after a crash
    envelope = _envelope("r1", "ok", STAMP)
    server = {GRID: {"r1": envelope, "r2": _envelope("r2", "ok", STAMP)}}
    checks = check_day(1, ledger, server, {})
    assert checks.duplicated

    ledger = Ledger()
    for node, key, notes, stamp in (("aaaaaaaaaaaa", "a", "one", STAMP), ("bbbbbbbbbbbb", "b", "two", LATER)):
        ledger.plan(Item(key, node, 1, create=False, conflict_group="same-notes"))
        ledger.event(
            node,
            {"ev": "ack", "key": key, "record": "r1", "kind": "household", "grid": GRID, "stamps": {"notes": stamp},
             "values": {"notes": notes}, "base": {"notes": None}, "sets": {}, "resolved": {}},
        )  # fmt: skip
    ledger.seeded = {"r1"}
    server = {GRID: {"r1": _envelope("r1", "two", LATER)}}
    checks = check_day(1, ledger, server, {})
    assert checks.conflicts_expected == 1 and checks.conflicts_found == 0 and checks.conflict_problems
    flagged = copy.deepcopy(server)
    flagged[GRID]["r1"]["conflicts"] = {f"notes@{STAMP}": {"field": "notes", "type": "value", "resolved": None}}
    assert check_day(1, ledger, flagged, {}).clean


def test_checks_catch_a_refusal_that_did_not_happen_and_one_nobody_expected() -> None:
    ledger = Ledger()
    ledger.plan(Item("k1", "aaaaaaaaaaaa", 1, create=False, expect="refused:leader_only"))
    ledger.event(
        "aaaaaaaaaaaa",
        {"ev": "ack", "key": "k1", "record": GRID, "kind": "grid", "grid": GRID, "stamps": {"mode": STAMP},
         "values": {"mode": "wartime"}, "base": {"mode": None}, "sets": {}, "resolved": {}},
    )  # fmt: skip
    ledger.seeded = {GRID, "r1"}
    server = {GRID: {}}
    unexpected = {**_dump([]), "refused": [{"record": "r1", "code": "stamp_in_future", "reason": "?"}]}
    checks = check_day(1, ledger, server, {"d": unexpected})
    assert checks.refused_expected == checks.refused_found == 1 and len(checks.refusal_problems) == 2
    assert any("expected but not refused" in p for p in checks.refusal_problems)
    assert any("unexpected" in p for p in checks.refusal_problems)
    refused = {**_dump([]), "refused": [{"record": GRID, "code": "leader_only", "reason": "?"}]}
    checks = check_day(1, ledger, server, {"d": refused})
    assert checks.clean and checks.refused_codes == {"leader_only": 1}
