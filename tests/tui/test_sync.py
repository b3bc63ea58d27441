"""Sync from the app against the real town server (in process), readable errors, conflicts resolved in one step."""

from __future__ import annotations

import asyncio
import copy
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Button, DataTable, Input, Log, Static

from field_agent.domain.envelope import local_edit, view
from field_agent.domain.hlc import HybridClock
from field_agent.protocol.merge import apply_change
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent
from field_agent.sync.enroll import enroll
from field_agent.tui.app import make_app
from field_agent.tui.screens.sync import SyncScreen
from field_agent.tui.sync_run import SyncFinished
from field_agent.tui.widgets.prompt import FieldsDialog

from .conftest import PASSPHRASE, frozen_now, reopen_records, settle, spy_notes, unlocked


async def enrolled_in_town(
    tmp_path: Path, *, households: int, worker: str, role: str
) -> tuple[Any, Store, httpx.ASGITransport]:
    """A demo town server (in process, SQLite) and a new store enrolled in its grid as ``worker``."""
    from server_stub.app import create_app
    from server_stub.db import open_database
    from server_stub.demo import seed_demo
    from server_stub.enrolment import issue_code

    db = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    grid_id = seed_demo(db, grids=1, households=households, seed=7)["grids"][0]
    code = issue_code(db, grid_id, worker, role, ttl_ms=3_600_000)["code"]
    transport = httpx.ASGITransport(app=create_app(db))
    store = Store.create(tmp_path / "store", PASSPHRASE, grid=grid_id)
    await enroll(store, "http://town.test", code, transport=transport)
    return db, store, transport


async def open_sync(pilot) -> SyncScreen:
    await pilot.press("f6")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SyncScreen)
    return pilot.app.screen


class GatedTransport(httpx.AsyncBaseTransport):
    """The town server behind a gate: every request waits until the test opens it (a slow connection)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.waiting.set()
        await self.gate.wait()
        return await self.inner.handle_async_request(request)


async def test_a_sync_goes_on_when_the_worker_leaves_the_sync_screen(tmp_path: Path) -> None:
    """Sync started, then F1: the sync is not cancelled; it ends on Today with a toast, and the records are there."""
    db, store, transport = await enrolled_in_town(tmp_path, households=9, worker="陈倩", role="leader")
    gated = GatedTransport(transport)
    messages: list[Any] = []
    app = make_app(
        tmp_path / "store",
        store=store,
        now=frozen_now,
        environ={},
        agent_factory=lambda opened: SyncAgent(opened, transport=gated),
    )
    notes = spy_notes(app)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await unlocked(pilot)
        await open_sync(pilot)
        await pilot.press("s")
        await gated.waiting.wait()  # the sync is on the wire
        await pilot.press("f1")
        await pilot.pause()
        assert app.sync_agent is not None
        await pilot.press("f6")  # back on the Sync screen, it still shows the sync running
        await pilot.pause()
        back = app.screen
        assert isinstance(back, SyncScreen)
        assert back.query_one("#sync-now", Button).disabled
        assert str(back.query_one("#sync-result", Static).content) == app.t("sync.running")
        await pilot.press("f1")
        await pilot.pause()
        gated.gate.set()
        await settle(pilot)
        finished = [m for m in messages if isinstance(m, SyncFinished)]
        assert len(finished) == 1 and finished[0].result.ok, finished[0].result.error
        assert app.sync_agent is None
        assert any(note.startswith("同步完成") for note in notes), notes
        assert len(app.session.model.of_kind("household")) == 9
        await app.action_lock()
    db.close()


async def test_sync_now_pulls_the_grid_from_the_town_server(tmp_path: Path) -> None:
    db, store, transport = await enrolled_in_town(tmp_path, households=12, worker="陈倩", role="leader")
    messages = []
    app = make_app(
        tmp_path / "store",
        lang="en",
        store=store,
        now=frozen_now,
        environ={},
        agent_factory=lambda opened: SyncAgent(opened, transport=transport),
    )
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("s")
        await settle(pilot)
        finished = [m for m in messages if isinstance(m, SyncFinished)]
        assert finished and finished[0].result.ok, finished[0].result.error
        assert finished[0].result.pulled > 0
        assert "Done" in str(screen.query_one("#sync-result", Static).content)
        log = "\n".join(screen.query_one("#sync-log", Log).lines)
        assert "Connect" in log and "Receive" in log
        assert len(app.session.model.of_kind("household")) == 12
        await app.action_lock()
    db.close()
    households = [r for r in _records(tmp_path / "store", "household")]
    assert len(households) == 12


def _records(path: Path, kind: str) -> list[dict]:
    with Store.open(path, PASSPHRASE) as store:
        return [view(envelope) for envelope in store.records(kind)]


async def test_sync_without_enrolment_explains_what_to_do(app_factory) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("s")
        await settle(pilot)
        result = str(screen.query_one("#sync-result", Static).content)
        assert "not enrolled" in result and "enrolment code" in result


def open_a_conflict(store_path: Path, resident_id: str) -> None:
    """Two devices changed one phone number unseen: the server's answer carries the conflict back."""
    with Store.open(store_path, PASSPHRASE) as store:
        server = copy.deepcopy(store.get(resident_id))
        server, _ = local_edit(
            server,
            HybridClock("bbbbbbbbbbbb"),
            record_id=resident_id,
            kind="resident",
            grid=server["grid"],
            values={"phone": "13900000002"},
        )
        store.put("resident", {"phone": "13800000001"}, record_id=resident_id)
        _batch, changes = store.next_batch(1000)
        change = next(c for c in changes if c["record"] == resident_id)
        merged, outcome = apply_change(server, change)
        assert outcome.status == "conflict"
        store.apply_pulled([merged], 1)
        assert len(store.open_conflicts()) == 1


async def test_conflict_shown_side_by_side_and_resolved_in_one_step(app_factory, demo, store_path) -> None:
    resident = next(r for r in demo["resident"].values() if r.get("phone"))
    open_a_conflict(store_path, resident["id"])
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 1
        sides = str(screen.query_one("#side-winner", Static).content) + str(
            screen.query_one("#side-loser", Static).content
        )
        assert "13800000001" in sides and "13900000002" in sides and "this device" in sides
        other = next(side for side in ("winner", "loser") if screen.conflicts[0].get("mine") != side)
        await pilot.press("1" if other == "winner" else "2")
        await settle(pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 0
        residents = await reopen_records(pilot, store_path, "resident")
    fixed = next(r for r in residents if r["id"] == resident["id"])
    assert fixed["phone"] == "13900000002"
    assert "_conflicts" not in fixed


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
async def test_the_sync_log_speaks_the_workers_language_with_plurals(tmp_path: Path, lang: str) -> None:
    """The agent reports each step by key and numbers; the screen says it from its catalog (issue 15, item 5):
    no ``connecting to``/``sending 1 changes`` on a Chinese screen, "1 change" in English."""
    db, store, transport = await enrolled_in_town(tmp_path, households=3, worker="陈倩", role="leader")
    store.put("household", {"building": "9号楼", "room": "101", "address": "9号楼101"})
    app = make_app(
        tmp_path / "store",
        lang=lang,
        store=store,
        now=frozen_now,
        environ={},
        agent_factory=lambda opened: SyncAgent(opened, transport=transport),
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("s")
        await settle(pilot)
        lines = list(screen.query_one("#sync-log", Log).lines)
        await app.action_lock()
    db.close()
    if lang == "zh_CN":
        assert lines[:3] == ["连接: 正在连接 http://town.test", "上传: 准备上传 1 条修改", "上传: 已上传 1 / 1 条修改"]
        assert lines[-1].startswith("完成: 上传 1，下载 ")
        assert not [line for line in lines if re.search(r"[A-Za-z]{3,}", line.replace("http://town.test", ""))]
    else:
        assert lines[:3] == [
            "Connect: connecting to http://town.test",
            "Send: sending 1 change",
            "Send: sent 1 of 1 change",
        ]
        assert lines[-1].startswith("Done: sent 1, received ")


def test_sync_log_lines_for_one_and_many() -> None:
    from field_agent.sync.agent import SyncProgress
    from field_agent.tui.i18n import Translator
    from field_agent.tui.screens.sync import progress_line

    en, zh = Translator("en"), Translator("zh_CN")
    five = SyncProgress("push", 0, 5, "sending 5 changes", "push_start", {"total": 5})
    assert progress_line(en, five) == "Send: sending 5 changes"
    assert progress_line(zh, five) == "上传: 准备上传 5 条修改"
    done = SyncProgress(
        "done",
        3,
        None,
        "",
        "done",
        {"pushed": 2, "pulled": 1, "conflicts": 1, "refused": 3, "erased": 0, "stopped": True},
    )
    assert progress_line(en, done) == "Done: sent 2, received 1, 1 conflict to resolve, 3 changes refused (stopped)"
    assert progress_line(zh, done) == "完成: 上传 2，下载 1，1 个冲突待处理，3 条修改被拒收（已停止）"
    retry = SyncProgress(
        "retry", 0, None, "x", "retry", {"kind": "offline", "error": "offline: …", "attempt": 2, "seconds": 1.5}
    )
    assert progress_line(zh, retry).endswith("（1.5 秒后第 2 次重试）")
    assert (
        progress_line(en, SyncProgress("pull", 1, 1, "", "pull_received", {"count": 1})) == "Receive: received 1 record"
    )


async def test_a_failed_sync_is_explained_in_chinese_only(app_factory, store_path: Path) -> None:
    """Not 本设备尚未登记 followed by the agent's English; and the last run's failure, read back from the store,
    is said from its kind too (issue 15, item 5)."""
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("s")
        await settle(pilot)
        result = str(screen.query_one("#sync-result", Static).content)
        lines = list(screen.query_one("#sync-log", Log).lines)
        await app.action_lock()
    assert result == "同步失败：本设备尚未登记：请向镇街索取登记码。"
    assert lines == ["完成: 本设备尚未登记：请向镇街索取登记码。"]
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set(
            "last_sync",
            {
                "at": "2026-11-30T01:00:00+00:00",
                "ok": False,
                "pushed": 0,
                "pulled": 0,
                "error": "offline: the town server could not be reached; unsent changes are kept for the next sync",
                "error_kind": "offline",
            },
        )
    again = app_factory()
    async with again.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        shown = str(screen.query_one("#sync-result", Static).content)
    assert shown == "同步失败：无法连接服务器：修改已保存在本机，下次同步时上传。"


OTHER_NODE = "bbbbbbbbbbbb"


def open_conflict(store_path: Path, record_id: str, field: str, mine: object, theirs: object) -> None:
    """Another device (OTHER_NODE) and this one changed one field of a record unseen: the server's answer carries
    the conflict back."""
    with Store.open(store_path, PASSPHRASE) as store:
        server = copy.deepcopy(store.get(record_id))
        server, _ = local_edit(
            server,
            HybridClock(OTHER_NODE),
            record_id=record_id,
            kind=server["kind"],
            grid=server["grid"],
            values={field: theirs},
        )
        store.put(server["kind"], {field: mine}, record_id=record_id)
        _batch, changes = store.next_batch(1000)
        change = next(c for c in changes if c["record"] == record_id)
        merged, outcome = apply_change(server, change)
        assert outcome.status == "conflict"
        store.apply_pulled([merged], 1)


def pull_a_visit_by(store_path: Path, household_id: str, worker: str) -> None:
    """The other device's worker recorded a visit: that tells this device whose tablet OTHER_NODE is."""
    with Store.open(store_path, PASSPHRASE) as store:
        visit, _ = local_edit(
            None,
            HybridClock(OTHER_NODE),
            record_id="visit-by-other-device",
            kind="visit",
            grid=store.grid,
            values={
                "household": household_id,
                "visited_at": "2026-11-29T10:00:00+08:00",
                "worker": worker,
                "outcome": "nobody_home",
            },
        )
        store.apply_pulled([visit], 2)


async def test_a_conflict_row_names_the_person_the_household_and_the_other_worker(app_factory, demo, store_path):
    resident = next(r for r in demo["resident"].values() if r.get("phone"))
    household = demo["household"][resident["household"]]
    open_conflict(store_path, resident["id"], "phone", "13800000001", "13900000002")
    pull_a_visit_by(store_path, household["id"], "王勇刚")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        table = screen.query_one("#conflicts", DataTable)
        row = [str(cell) for cell in table.get_row_at(0)]
        sides = str(screen.query_one("#side-winner", Static).content) + str(
            screen.query_one("#side-loser", Static).content
        )
    assert resident["name"] in row[0] and household["room"] in row[0]
    assert "王勇刚的设备" in row
    assert "王勇刚的设备" in sides and "本机" in sides


async def test_a_typed_conflict_value_is_checked_like_the_edit_form_and_the_dialog_stays(
    app_factory, demo, store_path
) -> None:
    resident = next(r for r in demo["resident"].values() if r.get("phone"))
    open_conflict(store_path, resident["id"], "phone", "13800000001", "13900000002")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("3")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog)
        field = dialog.query_one("#field-phone", Input)
        field.value = "123"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog, "a phone number the server refuses must not close the conflict"
        assert field.value == "123"
        assert str(dialog.query_one("#error-field-phone", Static).content)
        field.value = "13900001111"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#conflicts", DataTable).row_count == 0
        residents = await reopen_records(pilot, store_path, "resident")
    assert next(r for r in residents if r["id"] == resident["id"])["phone"] == "13900001111"


async def test_a_worker_is_not_offered_a_resolution_the_server_refuses(app_factory, demo, store_path) -> None:
    task = next(t for t in demo["task"].values() if t.get("assignee"))
    open_conflict(store_path, task["id"], "title", "我改的标题", "别人改的标题")
    with Store.open(store_path, PASSPHRASE) as store:
        store.meta_set("role", "worker")
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        buttons = list(screen.query("#conflict-actions Button").results(Button))
        assert buttons and all(button.disabled for button in buttons)
        assert "网格长" in str(screen.query_one("#conflict-rights", Static).content)
        await pilot.press("1")
        await settle(pilot)
        assert screen.query_one("#conflicts", DataTable).row_count == 1


async def test_every_server_refusal_is_shown_with_the_record_field_and_reason(tmp_path: Path) -> None:
    db, store, transport = await enrolled_in_town(tmp_path, households=12, worker="刘逸梓", role="worker")
    await SyncAgent(store, transport=transport).sync()
    task = next(view(e) for e in store.records("task") if view(e).get("status") == "open")
    store.put("task", {"title": "改过的标题"}, record_id=task["id"])  # only the leader's device may
    app = make_app(
        tmp_path / "store",
        store=store,
        now=frozen_now,
        environ={},
        agent_factory=lambda opened: SyncAgent(opened, transport=transport),
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = await open_sync(pilot)
        await pilot.press("s")
        await settle(pilot)
        shown = str(screen.query_one("#sync-refusals", Static).content)
        await pilot.press("k")  # read: forget them
        await settle(pilot)
        assert not screen.query_one("#sync-refusals", Static).display
        assert store.refused_changes() == []
        await app.action_lock()
    db.close()
    assert task["title"] in shown and "标题" in shown and "网格长" in shown


def test_a_device_without_a_known_worker_is_named_by_four_digits() -> None:
    """The hex node id (``9bdfa0c3e2f1``) is no name a worker can say or read on a Chinese screen: four digits are."""
    from field_agent.tui.screens.sync import device_number

    numbers = {device_number(node) for node in ("9bdfa0c3e2f1", "0123456789ab", "ffffffffffff", "000000000000")}
    assert all(len(n) == 4 and n.isdigit() for n in numbers) and len(numbers) == 4
    assert device_number("9bdfa0c3e2f1") == device_number("9bdfa0c3e2f1")
    assert device_number("not hex") == "????"
