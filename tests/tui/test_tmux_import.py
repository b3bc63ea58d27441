"""The roster import in a real 80x24 terminal, in Chinese: from the ledgers (F7, i) a path typed into the picker,
the report of the file, ctrl+s, the toast, and the new residents found on the Households screen. Every screen fits
80 columns and shows no English UI text."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import PASSPHRASE
from .test_roster_import import good_rows, write_roster
from .test_tmux import FIELD_AGENT, Terminal
from .test_tmux_day import WAIT, check

SHOWN_WORDS = frozenset({"csv", "oyqs"})  # the roster file suffixes the picker names; the pinyin typed in the search

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed on this machine")


@pytest.fixture
def home() -> Iterator[Path]:
    """A short home without letters: its path is shown in the picker and must fit."""
    folder = Path(f"/tmp/{os.getpid()}{time.monotonic_ns()}")
    (folder / "名单").mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_leader_imports_a_roster_at_80x24_in_chinese(store_path: Path, home: Path) -> None:
    write_roster(home / "名单" / "东门花名册.xlsx", good_rows())
    env = {**os.environ, "LANG": "C.UTF-8", "TERM": "xterm-256color", "FIELD_AGENT_KDF_PROFILE": "test"}
    env["HOME"] = str(home)
    env.pop("FIELD_AGENT_PASSPHRASE", None)
    terminal = Terminal(f"{FIELD_AGENT} --store {store_path} --lang zh_CN tui", env, size=(80, 24))
    try:
        terminal.wait_for("请输入密码", timeout=WAIT)
        terminal.send("-l", PASSPHRASE)
        terminal.send("Enter")
        terminal.wait_for("入户排查", timeout=WAIT)
        terminal.send("F7")
        check(terminal.wait_for_all("导入花名册", "i 导入花名册", timeout=WAIT), typed=SHOWN_WORDS)
        terminal.send("i")
        check(terminal.wait_for_all("检查每一行后确认导入", "名单", "esc 返回", timeout=WAIT), typed=SHOWN_WORDS)
        terminal.send("-l", "名单/东门花名册.xlsx")
        terminal.wait_for("东门花名册.xlsx", timeout=WAIT)
        terminal.send("Enter")
        report = terminal.wait_for_all("正确 3 行", "新增居民 3 人", "导入 3 行（Ctrl+S）", "^s 导入", timeout=WAIT)
        check(report, typed=SHOWN_WORDS)
        terminal.send("C-s")
        check(terminal.wait_for_all("花名册已导入", "共 185 行", timeout=WAIT), typed=SHOWN_WORDS)
        terminal.send("F2")
        # the households screen's own count line ("显示 N / 共 M 户"): the Ledgers screen says 显示 too, so waiting
        # for that word alone could let the search be typed into the screen being left, on a busy machine
        terminal.wait_for_all("显示", " / 共 ", timeout=WAIT)
        terminal.send("-l", "oyqs")
        check(terminal.wait_for_all("显示 1 / 共 1 户", "欧阳青松", timeout=WAIT), typed=SHOWN_WORDS)
        terminal.send("C-q")
        terminal.wait_for_exit()
    finally:
        terminal.close()
