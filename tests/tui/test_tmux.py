"""The real app in a real terminal (tmux): unlock, find a household by pinyin initials, record a visit, quit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import PASSPHRASE, household_by_head

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed on this machine")

FIELD_AGENT = str(Path(sys.executable).with_name("field-agent"))


class Terminal:
    """One tmux session on a private server socket, driven with send-keys and read with capture-pane."""

    def __init__(self, command: str, env: dict[str, str], size: tuple[int, int] = (100, 30)) -> None:
        self.socket = f"field-agent-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.tmux("new-session", "-d", "-s", "app", "-x", str(size[0]), "-y", str(size[1]), command)

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-u", "-L", self.socket, *args], check=True, capture_output=True, text=True, env=self.env
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen:\n{self.screen()}")

    def wait_for_all(self, *texts: str, timeout: float = 20.0) -> str:
        """Wait until every one of ``texts`` is on screen at once; returns that screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            time.sleep(0.1)
        missing = [text for text in texts if text not in self.screen()]
        raise AssertionError(f"{missing!r} never appeared on screen:\n{self.screen()}")

    def wait_for_gone(self, text: str, timeout: float = 20.0) -> str:
        """Wait until ``text`` is no longer on screen (a dialog closed, a toast expired); returns that screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text not in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} stayed on screen:\n{self.screen()}")

    def wait_for_exit(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                "app"
                not in subprocess.run(
                    ["tmux", "-L", self.socket, "list-sessions", "-F", "#{session_name}"],
                    capture_output=True,
                    text=True,
                    env=self.env,
                ).stdout
            ):
                return
            time.sleep(0.1)
        raise AssertionError(f"the app did not quit:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env)


def test_unlock_find_by_initials_record_a_visit_and_quit(store_path: Path, demo) -> None:
    household = household_by_head(demo, "陈峰林")
    env = {**os.environ, "LANG": "C.UTF-8", "TERM": "xterm-256color", "FIELD_AGENT_KDF_PROFILE": "test"}
    env.pop("FIELD_AGENT_PASSPHRASE", None)
    terminal = Terminal(f"{FIELD_AGENT} --store {store_path} --lang en tui", env)
    try:
        terminal.wait_for("Enter the passphrase")
        terminal.send("-l", PASSPHRASE)
        terminal.send("Enter")
        terminal.wait_for("Door-to-door round")
        terminal.send("F2")
        terminal.wait_for("pinyin initials")
        terminal.send("-l", "cfl")
        terminal.wait_for("shown of")
        time.sleep(0.3)
        assert "陈峰林" in terminal.wait_for("陈峰林")
        terminal.send("Enter")
        time.sleep(0.3)
        terminal.send("v")
        terminal.wait_for("Visit:")
        terminal.send("2")  # nobody home: one key saves it
        terminal.wait_for("Next door in this building")
        terminal.send("n")
        terminal.wait_for("Visit saved: Nobody home")
        terminal.send("C-q")
        terminal.wait_for_exit()
    finally:
        terminal.close()
    listed = subprocess.run(
        [FIELD_AGENT, "--store", str(store_path), "records", "list", "--kind", "visit", "--json"],
        check=True,
        capture_output=True,
        text=True,
        env={**env, "FIELD_AGENT_PASSPHRASE": PASSPHRASE},
    )
    visits = json.loads(listed.stdout)
    ours = [v for v in visits if v["household"] == household["id"] and v["outcome"] == "nobody_home"]
    assert len(ours) == 1, listed.stdout[:2000]
    assert ours[0]["worker"] == "陈倩" and ours[0]["residents_seen"] == []
