"""Damage and tampering: every case is detected with a message naming the file and offset, nothing silently lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from field_agent.store import Store, StoreCorrupted, WrongPassphrase
from field_agent.store.log import FILE_HEADER_SIZE, FRAME_PREFIX
from field_agent.store.salvage import salvage, verify

from .conftest import PASSPHRASE, frame_offsets

SAVES = 5


@pytest.fixture
def closed_store(store: Store, store_dir: Path) -> list[str]:
    """A closed store with a snapshot frame and one frame per save; returns the saved record ids."""
    ids = [store.put("household", {"address": f"幸福路 {n} 号"})["id"] for n in range(SAVES)]
    store.close()
    return ids


def _log(store_dir: Path) -> Path:
    return store_dir / "store.log"


def _expect_corrupted(store_dir: Path, *fragments: str) -> StoreCorrupted:
    with pytest.raises(StoreCorrupted) as caught:
        Store.open(store_dir, PASSPHRASE)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    # salvage needs the header (it holds the wrapped data key): for a damaged header it says to restore it instead
    assert ("restore store.header from a backup" if "store.header" in message else "--salvage") in message
    return caught.value


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", [0, 40, 80, -70, -3])
def test_flipped_header_byte_is_damage_not_wrong_passphrase(
    closed_store: list[str], store_dir: Path, where: int
) -> None:
    header = store_dir / "store.header"
    _flip(header, where % header.stat().st_size)
    _expect_corrupted(store_dir, "header is damaged", str(header))


def test_flipped_byte_in_middle_frame(closed_store: list[str], store_dir: Path) -> None:
    spans = frame_offsets(_log(store_dir).read_bytes())
    start, end = spans[2]
    _flip(_log(store_dir), (start + end) // 2)
    error = _expect_corrupted(store_dir, "frame 2 fails authentication", f"store.log at byte {start}")
    assert error.offset == start


def test_flipped_byte_in_last_frame(closed_store: list[str], store_dir: Path) -> None:
    start, end = frame_offsets(_log(store_dir).read_bytes())[-1]
    _flip(_log(store_dir), end - 1)
    _expect_corrupted(store_dir, f"frame {SAVES} fails authentication", f"byte {start}")


def test_flipped_length_field_is_not_taken_for_a_torn_tail(closed_store: list[str], store_dir: Path) -> None:
    (start, _), (following, _) = frame_offsets(_log(store_dir).read_bytes())[1:3]
    _flip(_log(store_dir), start + 1)  # length grows past the end of the file: looks like a torn write
    _expect_corrupted(
        store_dir,
        "frame 1's length field is damaged",
        f"frame 2 follows intact at byte {following}",
        f"store.log at byte {start}",
    )


def test_truncation_at_every_frame_boundary(closed_store: list[str], store_dir: Path, tmp_path: Path) -> None:
    original = _log(store_dir).read_bytes()
    for start, _ in frame_offsets(original)[1:]:
        _log(store_dir).write_bytes(original[:start])
        error = _expect_corrupted(store_dir, "saved frame(s) are missing", f"store.log at byte {start}")
        assert error.offset == start


def test_truncation_inside_every_frame(closed_store: list[str], store_dir: Path) -> None:
    original = _log(store_dir).read_bytes()
    for start, end in frame_offsets(original):
        for cut in (start + 2, start + FRAME_PREFIX + 1, end - 1):
            _log(store_dir).write_bytes(original[:cut])
            _expect_corrupted(store_dir, "store.log")


def test_truncated_inside_file_header(closed_store: list[str], store_dir: Path) -> None:
    _log(store_dir).write_bytes(_log(store_dir).read_bytes()[:10])
    _expect_corrupted(store_dir, "store.log at byte 0")


def test_two_frames_swapped(closed_store: list[str], store_dir: Path) -> None:
    log = _log(store_dir).read_bytes()
    spans = frame_offsets(log)
    (a_start, a_end), (b_start, b_end) = spans[2], spans[3]
    _log(store_dir).write_bytes(log[:a_start] + log[b_start:b_end] + log[a_start:a_end] + log[b_end:])
    _expect_corrupted(store_dir, "frame 2 fails authentication", f"byte {a_start}")


def test_replayed_frame(closed_store: list[str], store_dir: Path) -> None:
    log = _log(store_dir).read_bytes()
    start, end = frame_offsets(log)[2]
    _log(store_dir).write_bytes(log[:end] + log[start:end] + log[end:])
    _expect_corrupted(store_dir, "frame 3 fails authentication", f"byte {end}")


def test_frame_spliced_from_another_store_with_same_passphrase(
    closed_store: list[str], store_dir: Path, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    with Store.create(other_dir, PASSPHRASE, grid="grid-1") as other:
        for n in range(SAVES):
            other.put("household", {"address": f"other {n}"})
    ours, theirs = _log(store_dir).read_bytes(), _log(other_dir).read_bytes()
    start, end = frame_offsets(ours)[3]
    o_start, o_end = frame_offsets(theirs)[3]
    _log(store_dir).write_bytes(ours[:start] + theirs[o_start:o_end] + ours[end:])
    _expect_corrupted(store_dir, "frame 3 fails authentication", f"byte {start}")
    shutil.copy(_log(other_dir), _log(store_dir))
    _expect_corrupted(store_dir, "belongs to another store")


def test_log_rolled_back_to_an_older_generation(store: Store, store_dir: Path, tmp_path: Path) -> None:
    store.put("household", {"address": "before compaction"})
    shutil.copy(_log(store_dir), tmp_path / "old.log")
    store.compact()
    store.put("household", {"address": "after compaction"})
    store.close()
    shutil.copy(tmp_path / "old.log", _log(store_dir))
    _expect_corrupted(store_dir, "older than its commit marker")


def test_torn_last_frame_is_dropped_and_reported(store: Store, store_dir: Path) -> None:
    kept = store.put("household", {"address": "saved"})["id"]
    marker = (store_dir / "store.tail").read_bytes()
    size = _log(store_dir).stat().st_size
    store.put("household", {"address": "save interrupted"})
    store.close()
    # A crash mid-write: part of the frame reached the disk, the commit marker was never updated.
    (store_dir / "store.tail").write_bytes(marker)
    with _log(store_dir).open("r+b") as log:
        log.truncate(size + 30)
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.open_report is not None
        assert reopened.open_report["torn_bytes"] == 30
        assert "dropped" in reopened.open_report["message"]
        assert [r["id"] for r in reopened.records("household")] == [kept]
        reopened.put("household", {"address": "after repair"})
    with Store.open(store_dir, PASSPHRASE) as again:
        assert again.open_report is None
        assert len(again.records("household")) == 2


def test_damaged_commit_marker_opens_with_a_warning(closed_store: list[str], store_dir: Path) -> None:
    _flip(store_dir / "store.tail", 40)
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert "commit marker" in reopened.open_report["warning"]
        assert len(reopened.records("household")) == SAVES


def test_wrong_passphrase_is_told_apart(closed_store: list[str], store_dir: Path, slept: list[float]) -> None:
    with pytest.raises(WrongPassphrase):
        Store.open(store_dir, "correct horse battery stapler")
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert len(reopened.records("household")) == SAVES


def test_verify_and_salvage_a_damaged_store(closed_store: list[str], store_dir: Path, tmp_path: Path) -> None:
    assert verify(store_dir, PASSPHRASE).ok
    start, end = frame_offsets(_log(store_dir).read_bytes())[2]
    _flip(_log(store_dir), end - 5)
    report = verify(store_dir, PASSPHRASE)
    assert not report.ok
    assert f"byte {start}" in report.problems[0]
    salvaged = salvage(store_dir, PASSPHRASE, tmp_path / "rescued")
    assert salvaged.records == SAVES - 1
    with Store.open(tmp_path / "rescued", PASSPHRASE) as rescued:
        kept = {record["id"] for record in rescued.records("household")}
        assert kept == set(closed_store) - {closed_store[1]}
        assert rescued.meta_get("cursor") == 0
        assert rescued.pending_count() == SAVES - 1


def test_log_cut_to_its_file_header_without_marker(closed_store: list[str], store_dir: Path) -> None:
    _log(store_dir).write_bytes(_log(store_dir).read_bytes()[:FILE_HEADER_SIZE])
    (store_dir / "store.tail").unlink()
    _expect_corrupted(store_dir, "first frame (the snapshot) is missing")


def _tear_after_first_sector(store_dir: Path) -> int:
    """Append a copy of the last frame whose bytes after the first 512 are zeros; return its length."""
    start, end = frame_offsets(_log(store_dir).read_bytes())[-1]
    frame = _log(store_dir).read_bytes()[start:end]
    torn = frame[:512] + bytes(len(frame) - 512)
    with _log(store_dir).open("ab") as log:
        log.write(torn)
    return len(torn)


def test_a_save_torn_after_its_first_sector_is_dropped_when_the_marker_does_not_count_it(
    store: Store, store_dir: Path
) -> None:
    kept = store.put("household", {"address": "幸福路 1 号", "notes": "门口有台阶，" * 100})["id"]
    store.close()
    torn = _tear_after_first_sector(store_dir)
    assert not verify(store_dir, PASSPHRASE).problems  # verify agrees: an unfinished save, not damage
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.open_report["torn_bytes"] == torn and "dropped" in reopened.open_report["message"]
        assert [r["id"] for r in reopened.records("household")] == [kept]


def test_a_counted_last_frame_that_fails_authentication_still_fails_closed(store: Store, store_dir: Path) -> None:
    store.put("household", {"address": "幸福路 1 号", "notes": "门口有台阶，" * 100})
    store.close()
    start, end = frame_offsets(_log(store_dir).read_bytes())[-1]
    data = bytearray(_log(store_dir).read_bytes())
    data[start + 512 : end] = bytes(end - start - 512)  # the marker counts this frame: its save had returned
    _log(store_dir).write_bytes(bytes(data))
    _expect_corrupted(store_dir, "fails authentication", f"store.log at byte {start}")


def test_salvage_goes_on_after_an_impossible_length_and_keeps_the_frame_itself(
    closed_store: list[str], store_dir: Path, tmp_path: Path
) -> None:
    start, _ = frame_offsets(_log(store_dir).read_bytes())[2]
    data = bytearray(_log(store_dir).read_bytes())
    data[start : start + 4] = (3).to_bytes(4, "big")  # shorter than any frame: its length field alone is damaged
    _log(store_dir).write_bytes(bytes(data))
    _expect_corrupted(store_dir, "frame 2 has an impossible length", f"byte {start}")
    report = salvage(store_dir, PASSPHRASE, tmp_path / "rescued")
    assert not report.ok and "damaged length field" in " ".join(report.warnings)
    with Store.open(tmp_path / "rescued", PASSPHRASE) as rescued:
        assert {record["id"] for record in rescued.records("household")} == set(closed_store)


def test_salvage_skips_a_replayed_frame_and_keeps_everything_after_it(
    closed_store: list[str], store_dir: Path, tmp_path: Path
) -> None:
    log = _log(store_dir).read_bytes()
    start, end = frame_offsets(log)[2]
    _log(store_dir).write_bytes(log[:end] + log[start:end] + log[end:])
    salvage(store_dir, PASSPHRASE, tmp_path / "rescued")
    with Store.open(tmp_path / "rescued", PASSPHRASE) as rescued:
        assert {record["id"] for record in rescued.records("household")} == set(closed_store)


def test_salvage_of_a_log_whose_only_frame_is_damaged_gives_an_empty_store_that_opens(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    node = store.node_id
    store.close()
    _flip(_log(store_dir), FILE_HEADER_SIZE + 20)
    report = salvage(store_dir, PASSPHRASE, tmp_path / "rescued")
    assert any("new one" in repair for repair in report.repairs)
    with Store.open(tmp_path / "rescued", PASSPHRASE) as rescued:
        assert rescued.node_id != node and rescued.records() == []


def test_a_frame_after_a_torn_looking_one_is_found_wherever_it_starts(closed_store: list[str], store_dir: Path) -> None:
    """The search for the next intact frame trusts no length field, so damage spanning two frames is still told
    apart from an unfinished save: nothing is cut."""
    (store_dir / "store.tail").unlink()
    spans = frame_offsets(_log(store_dir).read_bytes())
    data = bytearray(_log(store_dir).read_bytes())
    (start, _), (second, _) = spans[1], spans[2]
    data[start : start + 4] = (10**8).to_bytes(4, "big")
    data[second + 20] ^= 0x01  # and the frame after it fails authentication
    _log(store_dir).write_bytes(bytes(data))
    size = len(data)
    _expect_corrupted(store_dir, "frame 1's length field is damaged", f"frame 3 follows intact at byte {spans[3][0]}")
    assert _log(store_dir).stat().st_size == size
