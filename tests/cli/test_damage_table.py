"""docs/STORE.md's damage table is what a user really sees: every row is reproduced here through the CLI.

Each case damages a closed store holding five saved households (a snapshot frame and one frame per save), then runs
``records list`` (what any command that opens the store meets), ``verify`` and, when the store will not open,
``verify --salvage OUT``. The row's message, exit codes and count of saves kept must match. Print the rows as they
are now with ``python tests/cli/test_damage_table.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.store import Store
from field_agent.store.log import FILE_HEADER_SIZE, FRAME_PREFIX

PASSPHRASE = "correct horse battery staple"
SAVES = 5
DOCS = Path(__file__).resolve().parents[2] / "docs" / "STORE.md"
HINTS = (  # every "store damaged" message ends with one of these (the docs say so above the table)
    "; nothing was changed — run 'field-agent verify --salvage OUT' to copy every intact record into a new store",
    "; nothing was changed — restore store.header from a backup of this store (salvage needs it too)",
)


def fa(store: Path, *args: str, passphrase: str = PASSPHRASE):
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": passphrase})


def spans(store: Path) -> list[tuple[int, int]]:
    log, found, position = (store / "store.log").read_bytes(), [], FILE_HEADER_SIZE
    while position < len(log):
        end = position + FRAME_PREFIX + int.from_bytes(log[position : position + 4], "big")
        found.append((position, end))
        position = end
    return found


def edit_log(store: Path, change: Callable[[bytearray], bytes | bytearray]) -> None:
    log = store / "store.log"
    log.write_bytes(bytes(change(bytearray(log.read_bytes()))))


def flip(data: bytearray, offset: int) -> bytearray:
    data[offset] ^= 0x01
    return data


def set_length(data: bytearray, offset: int, length: int) -> bytearray:
    data[offset : offset + 4] = length.to_bytes(4, "big")
    return data


def _header_byte(store: Path) -> None:
    header = store / "store.header"
    header.write_bytes(bytes(flip(bytearray(header.read_bytes()), 40)))


def _torn_last_save(store: Path) -> None:
    """A save killed mid-write: part of its frame is on disk, the marker never counted it."""
    marker = (store / "store.tail").read_bytes()
    with Store.open(store, PASSPHRASE) as opened:
        opened.put("household", {"address": "幸福路 99 号"})
    (store / "store.tail").write_bytes(marker)
    start, _end = spans(store)[-1]
    edit_log(store, lambda data: data[: start + 40])


def _torn_after_first_sector(store: Path) -> None:
    """Power lost after a big save's first sector reached the disk: the rest of the frame is zeros."""
    marker = (store / "store.tail").read_bytes()
    with Store.open(store, PASSPHRASE) as opened:
        opened.put("household", {"address": "幸福路 99 号", "notes": "门口有台阶，" * 100})
    (store / "store.tail").write_bytes(marker)
    start, end = spans(store)[-1]
    edit_log(store, lambda data: data[: start + 512] + bytes(end - start - 512))


def _counted_frame_zeroed(store: Path) -> None:
    with Store.open(store, PASSPHRASE) as opened:
        opened.put("household", {"address": "幸福路 99 号", "notes": "门口有台阶，" * 100})
    start, end = spans(store)[-1]
    edit_log(store, lambda data: data[: start + 512] + bytes(end - start - 512))


def _older_generation(store: Path) -> None:
    old = (store / "store.log").read_bytes()
    with Store.open(store, PASSPHRASE) as opened:
        opened.compact()
    (store / "store.log").write_bytes(old)


def _other_store(store: Path, frame: int | None) -> None:
    other = store.with_name("other")
    with Store.create(other, PASSPHRASE, grid="grid-1") as opened:
        for n in range(SAVES):
            opened.put("household", {"address": f"幸福路 {n} 号"})
    if frame is None:
        shutil.copy(other / "store.log", store / "store.log")
        return
    ours, theirs = spans(store)[frame], spans(other)[frame]
    foreign = (other / "store.log").read_bytes()[theirs[0] : theirs[1]]
    edit_log(store, lambda data: data[: ours[0]] + foreign + data[ours[1] :])


def _swap(store: Path) -> None:
    (a, b), (c, d) = spans(store)[2:4]
    edit_log(store, lambda data: data[:a] + data[c:d] + data[a:b] + data[d:])


def _replay(store: Path) -> None:
    a, b = spans(store)[2]
    edit_log(store, lambda data: data[:b] + data[a:b] + data[b:])


# case key -> how the store is damaged (the docs table names the key in its first column)
CASES: dict[str, Callable[[Path], None]] = {
    "header-byte": _header_byte,
    "header-missing": lambda store: (store / "store.header").unlink(),
    "wrong-passphrase": lambda store: None,
    "snapshot-frame": lambda store: edit_log(store, lambda data: flip(data, FILE_HEADER_SIZE + 30)),
    "middle-frame": lambda store: edit_log(store, lambda data: flip(data, sum(spans(store)[2]) // 2)),
    "last-frame": lambda store: edit_log(store, lambda data: flip(data, spans(store)[-1][1] - 1)),
    "length-past-end": lambda store: edit_log(store, lambda data: flip(data, spans(store)[1][0] + 1)),
    "length-past-end-no-marker": lambda store: (
        (store / "store.tail").unlink(),
        edit_log(store, lambda data: set_length(data, spans(store)[3][0], 10**8)),
    ),
    "impossible-length": lambda store: edit_log(store, lambda data: set_length(data, spans(store)[2][0], 3)),
    "cut-at-frame-boundary": lambda store: edit_log(store, lambda data: data[: spans(store)[3][0]]),
    "cut-inside-frame": lambda store: edit_log(store, lambda data: data[: spans(store)[3][0] + 20]),
    "cut-inside-file-header": lambda store: edit_log(store, lambda data: data[:10]),
    "cut-to-file-header-no-marker": lambda store: (
        (store / "store.tail").unlink(),
        edit_log(store, lambda data: data[:FILE_HEADER_SIZE]),
    ),
    "frames-swapped": _swap,
    "frame-replayed": _replay,
    "frame-from-other-store": lambda store: _other_store(store, 3),
    "log-of-other-store": lambda store: _other_store(store, None),
    "log-older-generation": _older_generation,
    "log-missing": lambda store: (store / "store.log").unlink(),
    "torn-last-save": _torn_last_save,
    "torn-after-first-sector": _torn_after_first_sector,
    "counted-last-frame-zeroed": _counted_frame_zeroed,
    "marker-damaged": lambda store: (store / "store.tail").write_bytes(b"\x00" * 64),
    "marker-missing": lambda store: (store / "store.tail").unlink(),
}


@dataclass
class Seen:
    message: str  # stderr of `records list`, the store path written DIR, the common salvage hint cut off
    exit: int
    verify_exit: int
    kept: int  # saves still there: listed if the store opens, else in the salvaged copy (-1: salvage failed)


def observe(case: str, root: Path) -> Seen:
    store = root / "store"
    with Store.create(store, PASSPHRASE, grid="grid-1") as opened:
        for n in range(SAVES):
            opened.put("household", {"address": f"幸福路 {n} 号"})
    CASES[case](store)
    passphrase = "not the passphrase at all" if case == "wrong-passphrase" else PASSPHRASE
    listed = fa(store, "records", "list", "--kind", "household", "--json", passphrase=passphrase)
    verified = fa(store, "verify", passphrase=passphrase)
    assert "Traceback" not in listed.output + verified.output
    message = listed.stderr.strip().replace(str(store), "DIR").removeprefix("field-agent: ")
    for hint in HINTS:
        message = message.removesuffix(hint)
    if listed.exit_code == 0:
        kept = len(json.loads(listed.stdout))
    else:
        out = root / "rescued"
        rescued = fa(store, "verify", "--salvage", str(out), passphrase=passphrase)
        copied = fa(out, "records", "list", "--kind", "household", "--json")
        kept = len(json.loads(copied.stdout)) if rescued.exit_code == 0 and copied.exit_code == 0 else -1
    return Seen(message, listed.exit_code, verified.exit_code, kept)


ROW = re.compile(
    r"^\| (?P<what>[^|]+) \(`(?P<case>[a-z-]+)`\) \| (?P<message>.*) "
    r"\| (?P<exit>\d) \| (?P<verify>\d) \| (?P<kept>.*) \|$"
)


def documented() -> dict[str, dict[str, str]]:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["case"]] = match.groupdict()
    return rows


def _kept_count(kept: str) -> int:
    if kept.startswith("nothing"):
        return -1
    match = re.search(r"(\d+) of " + str(SAVES), kept)
    assert match, f"the 'kept' column must say 'N of {SAVES}' saves or start with 'nothing': {kept!r}"
    return int(match[1])


def _offsets_out(message: str) -> str:
    return re.sub(r"\d{3,}", "N", message)


def test_every_case_is_in_the_table() -> None:
    assert sorted(documented()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_table_says_what_the_user_sees(case: str, tmp_path: Path) -> None:
    row = documented()[case]
    seen = observe(case, tmp_path)
    message = row["message"].strip()
    if message == "(nothing)":
        message = ""
    elif message.startswith("note: "):
        message = "note: " + message.removeprefix("note: ")
    # byte offsets and sizes (three digits or more) depend on the record format: the table shows them for this
    # example store, the comparison leaves them out
    assert _offsets_out(seen.message) == _offsets_out(message.strip("`")), case
    assert (seen.exit, seen.verify_exit) == (int(row["exit"]), int(row["verify"])), case
    assert seen.kept == _kept_count(row["kept"]), case


if __name__ == "__main__":  # print the rows as they are now (the first and last columns are written by hand)
    for key in CASES:
        with tempfile.TemporaryDirectory() as directory:
            seen = observe(key, Path(directory))
        print(f"| ? (`{key}`) | `{seen.message}` | {seen.exit} | {seen.verify_exit} | {seen.kept} of {SAVES} |")
