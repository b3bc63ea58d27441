"""Damage as a user meets it through the CLI: salvage that opens, verify beside a running writer, a damaged length
field without its commit marker, and missing files or a full disk (one line, an exit code, nothing half-made)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from store.conftest import frame_offsets

from field_agent.cli.main import cli
from field_agent.store import Store
from field_agent.store.log import FILE_HEADER_SIZE

PASSPHRASE = "correct horse battery staple"
SAVES = 12


def fa(store: Path, *args: str, passphrase: str = PASSPHRASE, **env: str):
    environment = {"FIELD_AGENT_PASSPHRASE": passphrase, **env}
    return CliRunner().invoke(cli, ["--store", str(store), *args], env=environment)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, list[str], str]:
    """A store made with ``init`` holding SAVES households, one frame each; (path, ids, node id)."""
    store = tmp_path / "store"
    assert fa(store, "init", "--grid", "grid-1").exit_code == 0
    with Store.open(store, PASSPHRASE) as opened:
        ids = [opened.put("household", {"address": f"幸福路 {n} 号"})["id"] for n in range(SAVES)]
        node = opened.node_id
    return store, ids, node


def _listed(store: Path) -> list[str]:
    result = fa(store, "records", "list", "--kind", "household", "--json")
    assert result.exit_code == 0, result.output
    return [item["id"] for item in json.loads(result.stdout)]


# -- 1. a salvaged copy always opens, with every intact record --------------------------------------------------


def test_salvage_after_the_snapshot_frame_is_damaged_opens_with_every_intact_record(saved, tmp_path: Path) -> None:
    store, ids, node = saved
    log = store / "store.log"
    data = bytearray(log.read_bytes())
    data[FILE_HEADER_SIZE + 30] ^= 0x01  # frame 0: the snapshot holding the device identity
    log.write_bytes(bytes(data))
    damaged = fa(store, "verify")
    assert damaged.exit_code == 5 and "frame 0 fails authentication" in damaged.stdout
    assert "no device identity" in damaged.stdout

    out = tmp_path / "rescued"
    rescued = fa(store, "verify", "--salvage", str(out))
    assert rescued.exit_code == 0, rescued.output
    assert f"recovered ({node})" in rescued.stdout  # the node id came back from the device's own stamps
    assert "enrol it again" in rescued.stdout

    checked = fa(out, "verify")
    assert checked.exit_code == 0 and "intact" in checked.stdout
    status = fa(out, "status", "--json")
    assert status.exit_code == 0, status.output
    facts = json.loads(status.stdout)
    assert facts["node_id"] == node and facts["grid"] == "grid-1"
    assert facts["counts"] == {"household": SAVES} and facts["pending_changes"] == SAVES
    assert sorted(_listed(out)) == sorted(ids)
    again = fa(out, "verify", "--salvage", str(tmp_path / "rescued-again"))  # a copy of the copy opens too
    assert again.exit_code == 0 and fa(tmp_path / "rescued-again", "status").exit_code == 0
    added = fa(out, "records", "put", "--kind", "household", "--json", '{"address": "幸福路 99 号"}')
    assert added.exit_code == 0, added.output  # the copy is a working store: it saves under its grid


def test_salvage_when_only_the_snapshot_held_the_identity_gives_a_new_one_and_asks_to_enrol(
    saved, tmp_path: Path
) -> None:
    store, _ids, node = saved
    with Store.open(store, PASSPHRASE) as opened:
        opened.compact()  # identity, clock and every record now live in frame 0 only
        opened.meta_set("token", "device-token")  # enrolment saved after it, without the clock
        opened.meta_set("device_id", "dev-1")
    log = store / "store.log"
    data = bytearray(log.read_bytes())
    data[FILE_HEADER_SIZE + 30] ^= 0x01
    log.write_bytes(bytes(data))

    out = tmp_path / "rescued"
    rescued = fa(store, "verify", "--salvage", str(out))
    assert rescued.exit_code == 0, rescued.output
    assert "left no trace" in rescued.stdout and "old enrolment was set aside" in rescued.stdout
    assert "enrol it again" in rescued.stdout
    status = fa(out, "status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["node_id"] != node
    with Store.open(out, PASSPHRASE) as copy:
        assert copy.meta_get("token") is None  # credentials of the old node id would only be refused


# -- 2. verify beside a process that keeps saving --------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import signal, sys
    from field_agent.store import Store

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with Store.open(sys.argv[1], sys.argv[2]) as store:
        saves = 0
        print("started", flush=True)
        while not stop:
            store.put("household", {"address": f"幸福路 {saves} 号", "notes": "门口有台阶" * (saves % 30)})
            saves += 1
            if saves % 40 == 0:
                store.compact()  # a new log generation replaces the file now and then, too
            print(saves, flush=True)
    print("stopped", saves, flush=True)
    """
)
VERIFY_RUNS = 30
BULK = 3000


def test_verify_never_reports_a_running_save_as_damage(saved) -> None:
    store, _ids, _node = saved
    with Store.open(store, PASSPHRASE) as opened, opened.batch():  # a log that takes a moment to check
        for n in range(BULK):
            opened.put("household", {"address": f"和平路 {n} 号", "notes": f"第 {n} 户，门口有台阶"})
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), PASSPHRASE],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "started"
        outputs = []
        for _ in range(VERIFY_RUNS):
            writer.stdout.readline()  # wait for the writer's next save, so every run overlaps more saves
            result = fa(store, "verify", "--json")
            outputs.append((result.exit_code, result.output))
        writer.send_signal(15)
        tail = writer.stdout.read()
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    saves = int(tail.split("stopped")[1])
    assert saves > VERIFY_RUNS  # the writer was saving throughout
    bad = [output for code, output in outputs if code != 0 or not json.loads(output)["ok"]]
    assert not bad, f"{len(bad)} of {VERIFY_RUNS} runs reported damage, e.g. {bad[0]}"
    unfinished = [output for _code, output in outputs if json.loads(output)["torn_bytes"]]
    assert not unfinished, f"{len(unfinished)} runs took a save in progress for an unfinished one"
    after = fa(store, "verify", "--json")
    assert after.exit_code == 0 and json.loads(after.stdout)["records"] == SAVES + BULK + saves


# -- 3. a damaged length field with no commit marker ----------------------------------------------------------


def test_a_damaged_length_without_the_marker_is_damage_and_nothing_is_cut(saved, tmp_path: Path) -> None:
    store, ids, _node = saved
    log = store / "store.log"
    (store / "store.tail").unlink()
    data = bytearray(log.read_bytes())
    spans = frame_offsets(bytes(data))
    start, _ = spans[6]
    data[start : start + 4] = (10**8).to_bytes(4, "big")  # a middle frame's length now runs past the end
    log.write_bytes(bytes(data))
    before = log.read_bytes()

    checked = fa(store, "verify")
    assert checked.exit_code == 5 and "DAMAGED" in checked.stdout
    assert "frame 6's length field is damaged" in checked.stdout and f"byte {spans[7][0]}" in checked.stdout
    listed = fa(store, "records", "list")
    assert listed.exit_code == 5 and "--salvage" in listed.stderr and listed.stderr.count("\n") == 1
    assert fa(store, "status").exit_code == 5
    assert log.read_bytes() == before  # nothing was cut

    out = tmp_path / "rescued"
    assert fa(store, "verify", "--salvage", str(out)).exit_code == 0
    assert sorted(_listed(out)) == sorted(ids)  # even frame 6 itself: only its length field was damaged


def test_a_torn_last_save_without_the_marker_is_still_dropped(saved) -> None:
    store, ids, _node = saved
    log = store / "store.log"
    (store / "store.tail").unlink()
    size = log.stat().st_size
    start, _ = frame_offsets(log.read_bytes())[-1]
    with log.open("r+b") as file:
        file.truncate(size - 7)  # the last save was cut short: nothing authentic follows it
    checked = fa(store, "verify")
    assert checked.exit_code == 0 and "unfinished save" in checked.stdout
    listed = fa(store, "records", "list", "--kind", "household", "--json")
    assert listed.exit_code == 0 and "note:" in listed.stderr
    assert [item["id"] for item in json.loads(listed.stdout)] == ids[:-1]
    assert log.stat().st_size == start


# -- 4. missing files and a full disk: one line, an exit code, nothing half-made ---------------------------------


@pytest.mark.parametrize("missing", ["store.log", "store.tail"])
def test_a_missing_file_is_one_line(saved, missing: str) -> None:
    store, _ids, _node = saved
    (store / missing).unlink()
    checked = fa(store, "verify")
    listed = fa(store, "records", "list")
    if missing == "store.log":
        for result in (checked, listed):
            assert result.exit_code == 5 and "the log file store.log is missing" in result.output
            assert "Traceback" not in result.output and "Error" not in result.output
        assert listed.stderr.count("\n") == 1
    else:
        assert checked.exit_code == 0 and "commit marker" in checked.stdout
        assert listed.exit_code == 0


def _mount_tmpfs(directory: Path, size: str) -> None:
    directory.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
            capture_output=True,
            check=False,
        )
    except OSError as error:
        pytest.skip(f"cannot mount a small disk here: {error}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {done.stderr.decode(errors='replace').strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (root only; skipped where mounting is refused)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    _mount_tmpfs(mount, "256k")
    try:
        yield mount
    finally:  # lazily if a file is still open (the old code leaked the lock file's descriptor on ENOSPC)
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def _fill(disk: Path, leave_pages: int) -> None:
    """Fill the disk until only ``leave_pages`` pages stay free."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize - leave_pages * stat.f_frsize
    with (disk / "filler").open("wb") as filler:
        filler.write(b"\0" * max(free, 0))


@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
def test_init_on_a_full_disk_says_why_and_leaves_nothing(small_disk: Path, free_pages: int) -> None:
    _fill(small_disk, free_pages)
    store = small_disk / "tablet" / "store"
    result = fa(store, "init", "--grid", "grid-1")
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.stderr and "nothing was left behind" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert sorted(path.name for path in small_disk.iterdir()) == ["filler"]  # not even the parent directory
    (small_disk / "filler").unlink()
    assert fa(store, "init", "--grid", "grid-1").exit_code == 0  # with room again, init works
    assert fa(store, "status").exit_code == 0


def test_passwd_on_a_full_disk_says_why_and_keeps_the_old_passphrase(small_disk: Path) -> None:
    store = small_disk / "store"
    assert fa(store, "init", "--grid", "grid-1").exit_code == 0
    header = (store / "store.header").read_bytes()
    _fill(small_disk, 0)
    new = "a brand new long passphrase"
    result = fa(store, "passwd", FIELD_AGENT_NEW_PASSPHRASE=new)
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.stderr and "old passphrase still opens it" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert (store / "store.header").read_bytes() == header
    assert sorted(path.name for path in store.iterdir() if path.name.endswith(".tmp")) == []
    assert fa(store, "status").exit_code == 0  # still opens (on the full disk) with the old passphrase
    assert fa(store, "status", passphrase=new).exit_code == 3


def test_salvage_onto_a_full_disk_leaves_no_half_store(saved, small_disk: Path) -> None:
    store, _ids, _node = saved
    _fill(small_disk, 1)
    out = small_disk / "rescued"
    result = fa(store, "verify", "--salvage", str(out))
    assert result.exit_code == 1 and "nothing was left behind" in result.stderr, result.output
    assert not out.exists()
    assert sorted(path.name for path in small_disk.iterdir()) == ["filler"]


def test_init_never_writes_over_a_log_whose_header_is_gone(saved) -> None:
    store, _ids, _node = saved
    (store / "store.header").unlink()
    log = (store / "store.log").read_bytes()
    status = fa(store, "status")
    assert status.exit_code == 5 and "the header, which holds the wrapped data key, is missing" in status.stderr
    assert "restore store.header from a backup" in status.stderr
    again = fa(store, "init", "--grid", "grid-1")
    assert (
        again.exit_code == 1 and "a store log without its header" in again.stderr and "left untouched" in again.stderr
    )
    assert (store / "store.log").read_bytes() == log
