"""A grid worker's whole day in a real 80x24 terminal (tmux), in Chinese, against a real town server on 127.0.0.1:
unlock, find a household by pinyin initials, record a visit, mark a resident sampled (and see the undo toast), a
home-isolation follow-up, complete a task, preview the wartime mode switch, sync (pushes), a conflict made by another
device (named by the person, resolved), export a ledger, lock. Every screen is checked: at most 80 columns, the words
expected, and no English UI text (no run of three or more ASCII letters outside a small allow-list)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e.harness import Town

from field_agent.domain.envelope import view
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent
from field_agent.sync.enroll import enroll
from server_stub.enrolment import issue_code
from server_stub.records import Edit, write_records

from .conftest import PASSPHRASE
from .test_tmux import FIELD_AGENT, Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed on this machine")

WAIT = 60.0  # seconds: a loaded two-core machine may take a while, and every wait ends as soon as the screen shows it
# What a Chinese screen may legitimately show in ASCII letters: key names of the key bar and the toasts, and the
# ledger's export path and file suffix (checked apart, see ``english``).
ALLOWED = {"esc", "Ctrl", "ctrl", "space", "enter", "tab", "xlsx"}
WORDS = re.compile(r"[A-Za-z]{3,}")
PATHS = re.compile(r"(?:https?://|/)[\w./-]+|\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b")  # paths, URLs, hex ids


def english(screen: str, typed: frozenset[str] = frozenset()) -> list[str]:
    """Runs of three or more ASCII letters on ``screen`` that are not allowed (paths, URLs and hex ids such as a
    device's taken out first);
    ``typed`` is what the worker typed (shown back in a search box)."""
    return [word for word in WORDS.findall(PATHS.sub(" ", screen)) if word not in ALLOWED | typed]


def check(screen: str, *expected: str, typed: frozenset[str] = frozenset()) -> str:
    lines = screen.splitlines()
    assert lines and len(lines[0]) <= 80, screen
    assert all(len(line) <= 80 for line in lines), screen
    for word in expected:
        assert word in screen, f"{word!r} missing:\n{screen}"
    assert not english(screen, typed), f"English on a Chinese screen: {english(screen, typed)}\n{screen}"
    return screen


def sync(store: Store) -> None:
    result = asyncio.run(SyncAgent(store).sync())
    assert result.error is None, result.error


def by_name(store: Store, kind: str, **values: Any) -> dict[str, Any]:
    for envelope in store.records(kind):
        record = view(envelope)
        if all(record.get(name) == value for name, value in values.items()):
            return record
    raise AssertionError(f"no {kind} with {values}")


@pytest.fixture
def town(tmp_path: Path):
    server = Town(tmp_path).start()
    yield server
    server.stop()


def test_a_grid_workers_day_at_80x24_in_chinese(store_path: Path, town: Town, tmp_path: Path) -> None:
    # The morning: this tablet (the demo grid, its leader 陈倩) and a colleague's (王勇刚) are enrolled and synced.
    with Store.open(store_path, PASSPHRASE) as mine:
        grid = mine.grid
        write_records(town.db, grid, [Edit("grid", grid, {"mode": "normal"})], validate=False)
        asyncio.run(enroll(mine, town.url, issue_code(town.db, grid, "陈倩", "leader", 3_600_000)["code"], "a"))
        sync(mine)
        resident = by_name(mine, "resident", name="陈峰林")
        # The app runs on the real clock, the demo was made for a fixed day: 黄芳's isolation is in its third day
        # whatever the date (past its days it offers no check).
        isolating = by_name(mine, "resident", name="黄芳")
        started = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=2)
        mine.put("resident", {"isolation_start": started.isoformat(), "isolation_days": 7}, record_id=isolating["id"])
    other = Store.create(tmp_path / "other", PASSPHRASE)
    try:
        asyncio.run(enroll(other, town.url, issue_code(town.db, grid, "王勇刚", "worker", 3_600_000)["code"], "b"))
        sync(other)
        # Yesterday evening 陈峰林 gave this tablet a new phone number (not yet synced).
        with Store.open(store_path, PASSPHRASE) as mine:
            mine.put("resident", {"phone": "13800000001"}, record_id=resident["id"])

        # A short home without letters (the exported ledger lands there, and its path wraps inside a toast).
        home = Path(f"/tmp/{os.getpid()}{time.monotonic_ns()}")
        home.mkdir()
        env = {
            **os.environ,
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "FIELD_AGENT_KDF_PROFILE": "test",
            "HOME": str(home),
        }
        env.pop("FIELD_AGENT_PASSPHRASE", None)
        terminal = Terminal(f"{FIELD_AGENT} --store {store_path} --lang zh_CN tui", env, size=(80, 24))
        day: list[str] = []

        def step(wait: str, *expected: str, typed: frozenset[str] = frozenset({"cfl"})) -> str:
            shown = check(terminal.wait_for_all(wait, *expected, timeout=WAIT), *expected, typed=typed)
            day.append(shown)
            return shown

        try:
            step("请输入密码")
            terminal.send("-l", PASSPHRASE)
            terminal.send("Enter")
            step("入户排查", "F1 今日", "F8 设置")

            terminal.send("F2")
            step("显示", "住户")
            terminal.send("-l", "cfl")
            step("显示 1 / 共 1 户", "陈峰林")
            terminal.send("Enter")
            terminal.wait_for("v 入户", timeout=WAIT)
            terminal.send("v")
            step("已见面", "^s 保存", "esc 返回")
            terminal.send("1")
            step("标记在场", "已见面")
            terminal.send("Space")  # 李美花, the first row, was at home
            terminal.send("C-s")
            step("本楼下一户", "入户记录已保存", "撤销")
            terminal.send("n")  # back to the list
            terminal.wait_for_gone("本楼下一户", timeout=WAIT)

            terminal.send("F3")
            step("流动采样", "李美花")
            terminal.send("s")
            step("撤销", "已保存：已采样（李美花）", "Ctrl+Z")

            terminal.send("F4")
            step("今日随访", "黄芳")
            terminal.send("c")
            step("体温", "黄芳", "保存（Ctrl+S）")
            terminal.send("C-s")
            terminal.wait_for_gone("体温 ℃", timeout=WAIT)
            step("随访已保存", "已随访")

            terminal.send("F5")
            step("截止", "状态", "六本台账更新")
            terminal.send("d")
            step("完成任务", "完成（Ctrl+S）")
            terminal.send("C-s")
            terminal.wait_for_gone("完成任务", timeout=WAIT)
            step("已完成", "六本台账更新")
            terminal.send("w")
            step("战时模式", "综合协调组", "刘逸梓: 宣传员 → 宣传引导组")
            terminal.send("Escape")
            terminal.wait_for_gone("战时模式", timeout=WAIT)

            terminal.send("F6")
            step("待上传", "冲突")
            terminal.send("s")
            step("同步完成", "上传")

            # 王勇刚's tablet heard another number from the same man and syncs first.
            other.put("resident", {"phone": "13900000002"}, record_id=resident["id"])
            sync(other)
            terminal.send("s")
            step("待处理冲突：1", "陈峰林")
            terminal.send("1")
            step("冲突已处理", "待处理冲突：0")

            terminal.send("F7")
            step("常住人口台账", "导出")
            terminal.send("C-e")
            exported = frozenset(
                {"tmp"}
            )  # the file's path (/tmp/…/东门社区第1网格-常住人口台账-日期.xlsx), wrapped in its toast
            step("已导出", "xlsx", typed=exported)
            assert len(list(home.glob("*-常住人口台账-*.xlsx"))) == 1

            terminal.send("C-l")
            step("请输入密码", typed=exported)  # on a slow machine the export's toast is still up
            terminal.send("C-q")
            terminal.wait_for_exit(timeout=WAIT)
        finally:
            print("\n\n".join(day))
            terminal.close()
            shutil.rmtree(home, ignore_errors=True)
    finally:
        other.close()
