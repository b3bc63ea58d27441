"""`field-agent demo`: a real town server, a seeded demo town, an enrolled and synced encrypted store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from field_agent.cli.demo_cmd import DEMO_PASSPHRASE
from field_agent.domain.envelope import view
from field_agent.store import Store


def run_demo(demo_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from field_agent.cli.main import main; main()",
            "demo",
            "--dir",
            str(demo_dir),
            "--no-tui",
            "--households",
            "12",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "FIELD_AGENT_KDF_PROFILE": "test"},
        check=False,
    )


@pytest.mark.slow
def test_demo_sets_up_an_enrolled_synced_store_and_stops_its_server(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "demo")
    assert first.returncode == 0, first.stderr
    assert "Setting up the demo town (12 households)" in first.stdout
    assert DEMO_PASSPHRASE in first.stdout
    url = re.search(r"Town server:\s+(http://127\.0\.0\.1:\d+)", first.stdout).group(1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/v1/health", timeout=2)  # the demo stopped its server on the way out

    with Store.open(tmp_path / "demo" / "store", DEMO_PASSPHRASE) as store:
        households = store.records("household")
        assert len(households) == 12
        assert store.meta_get("role") == "leader"
        assert store.pending_count() == 0
        grid = view(store.records("grid")[0])
        assert grid["leader"] in first.stdout

    again = run_demo(tmp_path / "demo")
    assert again.returncode == 0, again.stderr
    assert "Setting up" not in again.stdout
    with Store.open(tmp_path / "demo" / "store", DEMO_PASSPHRASE) as store:
        assert store.meta_get("server_url") in again.stdout
