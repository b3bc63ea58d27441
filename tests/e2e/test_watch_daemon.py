"""``field-agent sync --watch`` as a real process: syncs on SIGUSR1 or the flag file, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from field_agent.store import Store

from .harness import PASSPHRASE, Town, enrolled


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the daemon")
        time.sleep(0.05)


async def test_the_daemon_syncs_on_demand_outside_the_window_and_stops_on_sigterm(town: Town, tmp_path: Path) -> None:
    grid = town.new_grid()
    store = await enrolled(town, grid, tmp_path, "tablet")
    store.put("household", {"address": "幸福路8号", "head": "陈建国", "phone": "13800138000"})
    store.close()
    later = datetime.now() + timedelta(hours=3)
    window = f"{later:%H:%M}-{later + timedelta(hours=1):%H:%M}"
    log, flag = tmp_path / "sync.log", tmp_path / "sync-now"
    command = [
        str(Path(sys.executable).with_name("field-agent")), "--store", str(tmp_path / "tablet"), "sync", "--watch",
        "--window", window, "--log-file", str(log), "--trigger-file", str(flag),
    ]  # fmt: skip
    env = {**os.environ, "FIELD_AGENT_PASSPHRASE": PASSPHRASE}
    daemon = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log.exists() and "watching" in log.read_text())
        time.sleep(0.3)
        assert "sync started" not in log.read_text()  # outside the window: nothing until asked
        daemon.send_signal(signal.SIGUSR1)
        wait_for(lambda: log.read_text().count("sync done") == 1)
        assert len(town.records(grid)) == 2  # the grid record and the household
        with Store.open(tmp_path / "tablet", PASSPHRASE) as meanwhile:  # the daemon holds the store only to sync
            meanwhile.put("household", {"address": "幸福路10号"})
        flag.touch()
        wait_for(lambda: log.read_text().count("sync done") == 2)
        assert not flag.exists()
        assert len(town.records(grid)) == 3
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(20) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if daemon.stderr is not None:
            daemon.stderr.close()
    text = log.read_text()
    assert "on demand" in text and text.rstrip().endswith("stopped")
    for personal in ("幸福路", "陈建国", "13800138000"):
        assert personal not in text
    with Store.open(tmp_path / "tablet", PASSPHRASE) as reopened:
        assert reopened.pending_count() == 0
