"""Retirement (field_agent/store/retention.py): settled records of finished work older than the town's window leave
the tablet; nothing unacknowledged, unresolved or part of open work ever does, and nothing is pushed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.store import Store
from field_agent.store.retention import RETENTION_KEY, RETIRED_KEY, cutoff_ms

from .conftest import PASSPHRASE, resident_values

GRID = "grid-1"
DAY = 86_400_000
NOW = int(datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
OLD = NOW - 10 * DAY
RECENT = NOW - 1 * DAY
WINDOW = 3


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")


class Server:
    """Envelopes as the town server would send them, stamped at chosen times by another node's clock."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.cursor = 0

    def write(self, record_id: str, kind: str, values: dict[str, Any], at: int) -> dict[str, Any]:
        clock = HybridClock("5e5e5e5e5e5e", now_ms=lambda: at)  # each write at its own time, not monotonic
        envelope, _ = local_edit(
            self.records.get(record_id), clock, record_id=record_id, kind=kind, grid=GRID, values=values
        )
        self.records[record_id] = envelope
        return envelope

    def send(self, store: Store, *envelopes: dict[str, Any]) -> None:
        self.cursor += 1
        store.apply_pulled(list(envelopes), self.cursor)


@pytest.fixture
def server() -> Server:
    return Server()


def town(store: Store, server: Server) -> dict[str, str]:
    """A small grid: two households, a resident back from isolation, one still at home, a closed and an open
    round, and old and recent work of every kind."""
    w = server.write
    pages = [
        w("grid-1", "grid", {"town": "玉屏街道", "community": "东门社区", "name": "第1网格", "mode": "normal"}, OLD),
        w("h1", "household", {"address": "东门社区1栋101"}, OLD),
        w("h2", "household", {"address": "东门社区2栋202"}, OLD),
        w("r1", "resident", resident_values("h1", "张三", 1, isolation_status="home"), OLD - DAY),
        w("r1", "resident", {"isolation_status": "ended"}, OLD),
        w("r2", "resident", resident_values("h2", "李四", 2, isolation_status="home"), OLD),
        w("closed", "sampling_round", {"name": "第一轮", "started_at": iso(OLD - DAY), "status": "open"}, OLD - DAY),
        w("closed", "sampling_round", {"status": "closed"}, OLD),
        w("open", "sampling_round", {"name": "第二轮", "started_at": iso(OLD), "status": "open"}, OLD),
    ]
    sampled = {"resident": "r1", "household": "h1", "status": "sampled", "by": "林芳"}
    pages += [
        w("s_closed_old", "sampling", {**sampled, "round": "closed", "sampled_at": iso(OLD)}, OLD),
        w("s_closed_recent", "sampling", {**sampled, "round": "closed", "sampled_at": iso(RECENT)}, RECENT),
        w("s_open_old", "sampling", {**sampled, "round": "open", "sampled_at": iso(OLD)}, OLD),
        w("s_pending", "sampling", {**sampled, "round": "closed", "sampled_at": iso(OLD)}, OLD),
        w("s_inflight", "sampling", {**sampled, "round": "closed", "sampled_at": iso(OLD)}, OLD),
        w("s_refused", "sampling", {**sampled, "round": "closed", "sampled_at": iso(OLD)}, OLD),
        w("f_ended_old", "followup", {"resident": "r1", "date": iso(OLD)[:10], "contact_made": True}, OLD),
        w("f_isolated_old", "followup", {"resident": "r2", "date": iso(OLD)[:10], "contact_made": True}, OLD),
        w("v_old", "visit", {"household": "h1", "visited_at": iso(OLD), "outcome": "met"}, OLD),
        w("v_recent", "visit", {"household": "h1", "visited_at": iso(RECENT), "outcome": "met"}, RECENT),
        w("v_isolated_old", "visit", {"household": "h2", "visited_at": iso(OLD), "outcome": "met"}, OLD),
        w("t_done_old", "task", {"title": "发放物资", "task_kind": "other", "status": "done"}, OLD),
        w("t_open_old", "task", {"title": "排查", "task_kind": "other", "status": "open"}, OLD),
        w("v_deleted", "visit", {"household": "h1", "visited_at": iso(OLD), "outcome": "met"}, OLD - DAY),
        w("v_deleted", "visit", {"_deleted": True}, OLD),
    ]
    conflicted = w("v_conflict", "visit", {"household": "h1", "visited_at": iso(OLD), "outcome": "met"}, OLD)
    stamp = conflicted["stamps"]["outcome"]
    conflicted["conflicts"] = {
        "c1": {
            "type": "value",
            "field": "outcome",
            "winner": {"value": "met", "stamp": stamp},
            "loser": {"value": "nobody_home", "stamp": stamp[:-1] + "0"},
        }
    }
    server.send(store, *[dict(envelope) for envelope in {e["id"]: e for e in [*pages, conflicted]}.values()])
    return {}


def settle_locally(store: Store) -> tuple[str, list[dict[str, Any]]]:
    """A pending edit (s_pending), a batch in flight (s_inflight) and a refused change (s_refused), all stamped
    long ago (the tablet's clock set back), so only their outbox state can keep them."""
    store.clock = HybridClock(store.node_id, now_ms=lambda: OLD + 1000)  # not past the recent pulled stamps
    store.put("sampling", {"team": "二队"}, record_id="s_refused")
    store.put("sampling", {"team": "一队"}, record_id="s_inflight")
    frozen = store.next_batch(10)
    assert frozen is not None
    store.ack_batch(frozen[0], [{"record": "s_refused", "status": "refused", "code": "forbidden", "reason": "no"}])
    store.put("sampling", {"team": "三队"}, record_id="s_pending")
    batch = store.next_batch(1)  # s_inflight again (it was not answered), now alone in flight
    assert batch is not None and [c["record"] for c in batch[1]] == ["s_inflight"]
    return batch


RETIRED = {"s_closed_old", "f_ended_old", "v_old", "t_done_old", "v_deleted"}
KEPT = {
    "grid-1",
    "h1",
    "h2",
    "r1",
    "r2",
    "closed",
    "open",
    "s_closed_recent",  # within the window
    "s_open_old",  # an open round
    "s_pending",  # a local edit not yet pushed
    "s_inflight",  # in the batch in flight
    "s_refused",  # refused by the server, awaiting a person
    "f_isolated_old",  # its resident is still isolated at home
    "v_recent",  # within the window
    "v_isolated_old",  # a household with a resident in isolation
    "t_open_old",  # open work
    "v_conflict",  # an open conflict
}


def test_retire_removes_only_settled_finished_old_records(store: Store, server: Server) -> None:
    town(store, server)
    batch = settle_locally(store)
    pending_before = store.pending_count()
    refused_before = store.refused_changes()
    held = {envelope["id"] for envelope in store.records(include_deleted=True)}
    assert held == RETIRED | KEPT

    counts = store.retire(NOW, WINDOW)

    assert counts.retired == {"followup": 1, "sampling": 1, "task": 1, "visit": 2}
    assert counts.kept_unsettled == 4  # pending, in flight, refused, conflicted
    after = {envelope["id"] for envelope in store.records(include_deleted=True)}
    assert after == KEPT
    # local removal only: nothing new to push, the batch in flight and the refused change untouched
    assert store.pending_count() == pending_before
    assert store.next_batch(10) == batch
    assert store.refused_changes() == refused_before
    assert store.status()["retired"]["total"] == 5
    assert store.status()["records_held"] == len(KEPT)


def test_acknowledged_later_then_retired(store: Store, server: Server) -> None:
    """The same records leave once their changes are acknowledged: it was only the outbox that kept them."""
    town(store, server)
    batch = settle_locally(store)
    store.retire(NOW, WINDOW)
    assert store.get("s_inflight") is not None and store.get("s_pending") is not None
    store.ack_batch(batch[0], [{"record": "s_inflight", "status": "applied", "conflicts": []}])
    store.retire(NOW, WINDOW)
    assert store.get("s_inflight") is None
    assert store.get("s_pending") is not None  # still pending
    pending = store.next_batch(10)
    assert pending is not None
    store.ack_batch(pending[0], [{"record": "s_pending", "status": "applied", "conflicts": []}])
    for entry in store.refused_changes():
        store.sync.discard_refused(entry["id"])
    counts = store.retire(NOW, WINDOW)
    assert counts.retired == {"sampling": 2}
    assert store.get("s_pending") is None and store.get("s_refused") is None


def test_isolation_ending_and_round_closing_start_the_window(store: Store, server: Server) -> None:
    """Old follow-ups of a resident whose isolation ended yesterday stay; samplings of a round closed yesterday
    stay; both go once the window has passed since."""
    town(store, server)
    server.send(
        store,
        server.write("r2", "resident", {"isolation_status": "ended"}, RECENT),
        server.write("open", "sampling_round", {"status": "closed"}, RECENT),
    )
    store.retire(NOW, WINDOW)
    assert store.get("f_isolated_old") is not None and store.get("s_open_old") is not None
    store.retire(NOW + 5 * DAY, WINDOW)
    assert store.get("f_isolated_old") is None and store.get("s_open_old") is None
    assert store.get("r2") is not None and store.get("open") is not None  # residents and rounds stay


def test_off_and_the_towns_setting(store: Store, server: Server) -> None:
    town(store, server)
    assert store.retire(NOW).total == 0  # no window delivered yet: keep everything
    store.meta_set(RETENTION_KEY, None)  # the town keeps everything
    assert store.retire(NOW).total == 0
    store.meta_set(RETENTION_KEY, 30)
    assert store.retire(NOW).total == 0  # 10 days old, inside 30
    store.meta_set(RETENTION_KEY, WINDOW)
    assert store.retire(NOW).total == 8  # with no local edits, s_pending/s_inflight/s_refused are settled too


def test_retired_records_leave_the_file_and_come_back_when_the_server_changes_them(
    store: Store, server: Server, store_dir: Path
) -> None:
    town(store, server)
    store.retire(NOW, WINDOW)
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.get("v_old") is None
        assert reopened.meta_get(RETIRED_KEY)["total"] == 8
        assert reopened.pending_count() == 0
        # the server changes a retired record: it comes back whole with the pull
        changed = server.write("v_old", "visit", {"notes": "补记"}, NOW)
        server.send(reopened, changed)
        assert reopened.get("v_old") == changed


def test_cutoff_is_the_start_of_the_towns_day() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    cut = cutoff_ms(NOW, 3, zone)  # the last three days, today included: 11-29, 11-30 and 12-01
    assert datetime.fromtimestamp(cut / 1000, zone) == datetime(2026, 11, 29, 0, 0, tzinfo=zone)
    assert cutoff_ms(NOW, 0, zone) == int(datetime(2026, 12, 2, tzinfo=zone).timestamp() * 1000)  # none


def test_the_ledgers_say_a_rounds_samplings_left_the_tablet_not_that_anyone_was_left_out(
    store: Store, server: Server, tmp_path: Path
) -> None:
    from field_agent.ledgers.device import export_from_store

    town(store, server)
    store.retire(NOW, WINDOW)
    today = datetime.fromtimestamp(NOW / 1000).date()
    ledger = export_from_store(store, "sampling", tmp_path / "out.csv", today=today)
    rows = {row["round_name"]: row for row in ledger.as_dicts()}
    assert rows["第一轮"]["left_out"] == "已移出平板（2026-12-01），存于镇服务器"  # closed: its samplings left
    assert isinstance(rows["第二轮"]["left_out"], int)  # open: counted as before
    assert store.meta_get(RETIRED_KEY)["parents"] == {"closed": {"sampling": NOW}, "r1": {"followup": NOW}}
