"""Frame bodies: large ones are compressed (zstd now; zlib frames of earlier versions still read)."""

from __future__ import annotations

import secrets
import zlib
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from field_agent.store import Store
from field_agent.store.log import (
    COMPRESSED,
    DELTA,
    FILE_HEADER_SIZE,
    SNAPSHOT,
    ZSTD,
    file_header,
    frame_aad,
    replay,
    scan_log,
    seal_frame,
)

from .conftest import PASSPHRASE

STORE_ID = bytes(range(16))


def _legacy_zlib_frame(aead: AESGCM, seq: int, kind: int, body: bytes) -> bytes:
    """A frame as earlier versions sealed large bodies: zlib, flagged by the kind's high bit."""
    plaintext = bytes((kind | COMPRESSED,)) + zlib.compress(body, 3)
    length = len(plaintext) + 16
    nonce = secrets.token_bytes(12)
    return length.to_bytes(4, "big") + nonce + aead.encrypt(nonce, plaintext, frame_aad(STORE_ID, 1, seq, length))


def test_zlib_frames_of_earlier_versions_and_zstd_frames_replay_alike(tmp_path: Path) -> None:
    key = AESGCM.generate_key(256)
    aead = AESGCM(key)
    snapshot = {"records": {f"r{n}": {"n": n, "text": "门口有台阶" * 20} for n in range(1000)}}
    delta = [["records", {f"s{n}": {"n": n, "text": "独居老人" * 30} for n in range(1000)}, ["r1"], False]]
    log = tmp_path / "store.log"
    log.write_bytes(
        file_header(STORE_ID, 1)
        + _legacy_zlib_frame(aead, 0, SNAPSHOT, orjson.dumps(snapshot))
        + seal_frame(aead, STORE_ID, 1, 1, DELTA, orjson.dumps(delta))
    )
    data = log.read_bytes()
    second = FILE_HEADER_SIZE + 16 + int.from_bytes(data[FILE_HEADER_SIZE : FILE_HEADER_SIZE + 4], "big")
    assert AESGCM(key).decrypt(
        data[second + 4 : second + 16], data[second + 16 :], frame_aad(STORE_ID, 1, 1, len(data) - second - 16)
    )[0] == (DELTA | ZSTD)
    scan = scan_log(log, STORE_ID, key)
    assert not scan.damage and [frame.kind for frame in scan.frames] == [SNAPSHOT, DELTA]
    records = replay(scan.frames)["records"]
    assert len(records) == 1999 and "r1" not in records and records["s5"]["n"] == 5
    assert len(data) < len(orjson.dumps(snapshot)) // 5  # both bodies were compressed


def test_freezing_a_batch_writes_a_small_frame_whatever_the_size_of_the_changes(store: Store, store_dir: Path) -> None:
    with store.batch():
        ids = [store.put("household", {"address": f"幸福路 {n} 号", "notes": "门口有台阶，" * 60})["id"]
               for n in range(200)]  # fmt: skip
    before = store.storage.writer.size
    batch_id, changes = store.next_batch(200)
    frame = store.storage.writer.size - before
    assert len(changes) == 200 and frame < len(orjson.dumps(changes)) // 10
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:  # durable: the same batch comes back after a restart
        assert reopened.next_batch(500) == (batch_id, changes)
        assert [change["record"] for change in changes] == ids
