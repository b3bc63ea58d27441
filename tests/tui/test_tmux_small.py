"""The real app in a real 80x24 terminal, in Chinese: F keys, the task board's status and due date, the sampling
time and team, the visit's save key, the command palette: all on screen, none of Textual's English."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import PASSPHRASE
from .test_tmux import FIELD_AGENT, Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed on this machine")

TEXTUAL_ENGLISH = ("palette", "Search for commands", "No matches found", "Dismiss menu")


def test_an_80x24_chinese_screen_shows_how_to_move_and_what_decides_the_work(store_path: Path) -> None:
    env = {**os.environ, "LANG": "C.UTF-8", "TERM": "xterm-256color", "FIELD_AGENT_KDF_PROFILE": "test"}
    env.pop("FIELD_AGENT_PASSPHRASE", None)
    terminal = Terminal(f"{FIELD_AGENT} --store {store_path} --lang zh_CN tui", env, size=(80, 24))
    screens = []
    try:
        terminal.wait_for("密码")
        terminal.send("-l", PASSPHRASE)
        terminal.send("Enter")
        screens.append(terminal.wait_for("入户排查"))
        assert "F1 今日" in screens[-1] and "F8 设置" in screens[-1]
        terminal.send("F5")
        screens.append(terminal.wait_for("截止"))
        assert "状态" in screens[-1] and "已完成" in screens[-1]
        terminal.send("F3")
        screens.append(terminal.wait_for("流动采样"))
        terminal.send("F2")
        terminal.wait_for("显示")
        terminal.send("-l", "cfl")
        terminal.wait_for_all("显示 1 / 共 1 户", "陈峰林")  # the search has filtered the list
        terminal.send("Enter")
        terminal.wait_for("v 入户")  # the household screen's key bar: it takes keys now
        terminal.send("v")
        screens.append(terminal.wait_for("已见面"))
        assert "^s 保存" in screens[-1] and "esc 返回" in screens[-1]
        terminal.send("C-p")
        screens.append(terminal.wait_for("搜索命令"))
        terminal.send("-l", "qqqzzz")
        screens.append(terminal.wait_for("没有匹配的命令"))
        terminal.send("Escape")
        terminal.send("C-q")
        terminal.wait_for_exit()
    finally:
        terminal.close()
    for shown in screens:
        assert len(shown.splitlines()[0]) <= 80
        for english in TEXTUAL_ENGLISH:
            assert english not in shown, shown
