"""Terminal escapes in record values never reach the terminal from the CLI (a pushed value once changed the window
title of another tablet running ``records get``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from field_agent.store import Store

PASSPHRASE = "correct horse battery staple"
TITLE = "\x1b]0;pwned\x07"  # OSC 0: set the window title
CSI = "\x1b[2J\x1b[31m"  # clear the screen, turn red
C1 = "\x9b2J"  # CSI with the one-byte C1 introducer
RAW = (b"\x1b", b"\xc2\x9b", b"\x07")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pulled(tmp_path: Path) -> tuple[Path, str]:
    """A store holding a household pulled from the server with escapes in its values (a pull is not validated
    against this app's rules)."""
    path = tmp_path / "store"
    record_id = str(uuid.uuid4())
    stamp = "001796442329133-00000-0123456789ab"
    envelope = {
        "id": record_id,
        "kind": "household",
        "grid": "grid-1",
        "fields": {"address": f"东门{CSI}3栋", "head": f"陈{TITLE}峰林", "notes": f"a{C1}b"},
        "stamps": {"address": stamp, "head": stamp, "notes": stamp},
        "sets": {},
        "conflicts": {},
    }
    with Store.create(path, PASSPHRASE, grid="grid-1", kdf_profile="test") as store:
        store.apply_pulled([envelope], next_cursor=1)
    return path, record_id


def field_agent(store: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "FIELD_AGENT_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(REPO)}
    code = "import sys\nfrom field_agent.cli.main import main\nsys.argv[0] = 'field-agent'\nmain()\n"
    command = [sys.executable, "-c", code, "--store", str(store), *args]
    return subprocess.run(command, capture_output=True, env=env, check=False, cwd=REPO)


def test_records_get_prints_escapes_as_visible_text(pulled) -> None:
    store, record_id = pulled
    shown = field_agent(store, "records", "get", record_id)
    assert shown.returncode == 0, shown.stderr
    for raw in RAW:
        assert raw not in shown.stdout and raw not in shown.stderr, raw
    text = shown.stdout.decode()
    assert "head: 陈\\x1b]0;pwned\\x07峰林" in text
    assert "address: 东门\\x1b[2J\\x1b[31m3栋" in text
    assert "notes: a\\x9b2Jb" in text


def test_json_output_escapes_control_characters_itself(pulled) -> None:
    store, record_id = pulled
    for args in (("records", "get", record_id, "--json"), ("records", "list", "--json")):
        shown = field_agent(store, *args)
        assert shown.returncode == 0, shown.stderr
        for raw in RAW:
            assert raw not in shown.stdout, (args, raw)
        assert b"\\u001b]0;pwned\\u0007" in shown.stdout
    record = json.loads(field_agent(store, "records", "get", record_id, "--json").stdout)
    assert record["head"] == f"陈{TITLE}峰林" and record["notes"] == f"a{C1}b"  # the values parse back unchanged


def test_error_messages_escape_what_the_user_or_the_data_put_in_them(pulled) -> None:
    store, _ = pulled
    missing = field_agent(store, "records", "get", f"x{TITLE}y")
    assert missing.returncode == 1
    assert missing.stderr.count(b"\n") == 1
    for raw in RAW:
        assert raw not in missing.stderr
    assert b"x\\x1b]0;pwned\\x07y" in missing.stderr
