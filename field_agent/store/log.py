"""The sealed append-only log: every frame AES-256-GCM encrypted, bound to its store, generation and position.

File layout (``store.log``)::

    magic "FALOG\\x00\\x01\\x00" | store id (16 bytes) | generation (8 bytes, big-endian)
    frame*:  length L (4 bytes) | nonce (12 bytes) | ciphertext + tag (L bytes)

A frame's authenticated data is ``store id | generation | sequence number | L``, so a frame cannot be moved,
replayed, dropped from the middle or copied in from another store (or an older generation of this one) without
failing authentication. Nonces are random, never derived from the sequence: after a torn write the same sequence
number is written again with other content, and a repeated GCM nonce would leak the key stream.

Frame plaintext: one kind byte, then orjson. Kind 1 is a snapshot ``{table: {doc_id: doc}}`` (always frame 0 of a
generation); kind 2 a delta ``[[table, {doc_id: doc}, [deleted ids], cleared], ...]``. Bodies over 64 KiB
(snapshots, bulk imports, pulled pages) are compressed before sealing, flagged in the kind byte: 0x40 zstd (level 1,
what is written now: ~3x faster to unpack than zlib, which is on the open path), 0x80 zlib (written by earlier
versions, still read). Envelopes repeat their stamps and field names, so a snapshot shrinks ~13x; single saves stay
uncompressed to keep them fast.
"""

from __future__ import annotations

import gc
import secrets
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from field_agent.store.errors import StoreCorrupted

MAGIC = b"FALOG\x00\x01\x00"
FILE_HEADER_SIZE = len(MAGIC) + 16 + 8
FRAME_PREFIX = 4 + 12
TAG_SIZE = 16
MAX_FRAME = 1 << 31
AAD_PREFIX = b"field-agent/frame/v1|"
SNAPSHOT = 1
DELTA = 2
COMPRESSED = 0x80  # zlib
ZSTD = 0x40
COMPRESS_OVER = 64 * 1024

Tables = dict[str, dict[str, Any]]
Op = tuple[str, dict[str, Any], list[str], bool]


def frame_aad(store_id: bytes, generation: int, seq: int, length: int) -> bytes:
    return AAD_PREFIX + store_id + generation.to_bytes(8, "big") + seq.to_bytes(8, "big") + length.to_bytes(4, "big")


def seal_frame(aead: AESGCM, store_id: bytes, generation: int, seq: int, kind: int, body: bytes) -> bytes:
    """One frame's bytes, ready to append."""
    if len(body) > COMPRESS_OVER:
        kind, body = kind | ZSTD, zstandard.ZstdCompressor(level=1).compress(body)
    plaintext = bytes((kind,)) + body
    length = len(plaintext) + TAG_SIZE
    nonce = secrets.token_bytes(12)
    sealed = aead.encrypt(nonce, plaintext, frame_aad(store_id, generation, seq, length))
    return length.to_bytes(4, "big") + nonce + sealed


def file_header(store_id: bytes, generation: int) -> bytes:
    return MAGIC + store_id + generation.to_bytes(8, "big")


@dataclass
class Frame:
    offset: int
    seq: int
    kind: int
    body: bytes


@dataclass
class ScanResult:
    """What a pass over the log found: the intact frames, a torn tail, and the first damage (if any)."""

    generation: int
    size: int
    frames: list[Frame] = field(default_factory=list)
    end: int = FILE_HEADER_SIZE
    torn_bytes: int = 0
    damage: list[StoreCorrupted] = field(default_factory=list)
    # (offset, frame number) of a frame failing authentication with nothing but zeros after it: a torn write if
    # the commit marker shows its save never returned (see ``forgive_torn_tail``), damage otherwise
    last_frame_failed: tuple[int, int] | None = None

    def forgive_torn_tail(self, marker: tuple[int, int, int] | None) -> bool:
        """Treat a last frame that fails authentication as a torn save if the marker does not count it."""
        if self.last_frame_failed is None or marker is None:
            return False
        offset, seq = self.last_frame_failed
        generation, frames, _length = marker
        if generation != self.generation or frames > seq:
            return False  # the save of that frame had returned: its damage is real
        self.damage = [damage for damage in self.damage if damage.offset != offset]
        self.frames = [frame for frame in self.frames if frame.offset < offset]
        self.torn_bytes, self.end, self.last_frame_failed = self.size - offset, offset, None
        return True


def scan_log(path: Path, store_id: bytes, data_key: bytes, *, salvage: bool = False) -> ScanResult:
    """Authenticate every frame in order. Without ``salvage`` stop at the first damage; with it, skip damaged
    frames whose length is intact and keep going."""
    data = path.read_bytes()
    size = len(data)
    if size < FILE_HEADER_SIZE or data[: len(MAGIC)] != MAGIC:
        raise StoreCorrupted(path, 0, "the log does not start with a Field Agent log header")
    if data[len(MAGIC) : len(MAGIC) + 16] != store_id:
        raise StoreCorrupted(path, len(MAGIC), "the log belongs to another store")
    generation = int.from_bytes(data[len(MAGIC) + 16 : FILE_HEADER_SIZE], "big")
    result = ScanResult(generation, size)
    aead = AESGCM(data_key)
    pos, seq = FILE_HEADER_SIZE, 0
    view = memoryview(data)
    while pos < size:
        remaining = size - pos
        if remaining < FRAME_PREFIX:
            result.torn_bytes = remaining
            break
        length = int.from_bytes(view[pos : pos + 4], "big")
        if length < TAG_SIZE + 1 or length > MAX_FRAME:
            if not any(view[pos:]):
                result.torn_bytes = remaining  # zero-filled tail: space allocated, data never written
                break
            result.damage.append(StoreCorrupted(path, pos, f"frame {seq} has an impossible length"))
            break
        end = pos + FRAME_PREFIX + length
        if end > size:
            result.torn_bytes = remaining
            break
        nonce = bytes(view[pos + 4 : pos + FRAME_PREFIX])
        try:
            aad = frame_aad(store_id, generation, seq, length)
            plaintext = aead.decrypt(nonce, view[pos + FRAME_PREFIX : end], aad)
        except InvalidTag:
            if len(data.rstrip(b"\x00")) <= end:  # nothing but zeros after it: possibly a torn save
                result.last_frame_failed = (pos, seq)
            result.damage.append(
                StoreCorrupted(path, pos, f"frame {seq} fails authentication (altered, moved or from another store)")
            )
            if not salvage:
                break
        else:
            kind, body = plaintext[0], plaintext[1:]
            if kind & COMPRESSED:
                kind, body = kind & ~COMPRESSED, zlib.decompress(body)
            elif kind & ZSTD:
                kind, body = kind & ~ZSTD, zstandard.ZstdDecompressor().decompress(body)
            result.frames.append(Frame(pos, seq, kind, body))
        pos, seq = end, seq + 1
        result.end = pos
    return result


def apply_frame(tables: Tables, frame: Frame) -> None:
    """Replay one frame onto the in-memory tables."""
    if frame.kind == SNAPSHOT:
        tables.clear()
        tables.update(orjson.loads(frame.body))
        return
    if frame.kind != DELTA:
        raise ValueError(f"unknown frame kind {frame.kind}")
    for name, upserts, deletes, cleared in orjson.loads(frame.body):
        table = tables.setdefault(name, {})
        if cleared:
            table.clear()
        for doc_id in deletes:
            table.pop(doc_id, None)
        table.update(upserts)


FREEZE_AT_BYTES = 4 << 20


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Loading builds millions of small objects; the cyclic GC would rescan them over and over.

    With ``freeze`` the objects built meanwhile move to the permanent generation, so later full collections skip
    them (stored documents hold no reference cycles; refcounting frees them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def replay(frames: list[Frame]) -> Tables:
    tables: Tables = {}
    with gc_paused(freeze=sum(len(frame.body) for frame in frames) >= FREEZE_AT_BYTES):
        for frame in frames:
            apply_frame(tables, frame)
    return tables


def encode_delta(ops: list[Op]) -> bytes:
    return orjson.dumps([[name, upserts, deletes, cleared] for name, upserts, deletes, cleared in ops])


def encode_snapshot(tables: Tables) -> bytes:
    return orjson.dumps(tables)
