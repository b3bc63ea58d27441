"""The sealed append-only log: every frame AES-256-GCM encrypted, bound to its store, generation and position.

File layout (``store.log``)::

    magic "FALOG\\x00\\x01\\x00" | store id (16 bytes) | generation (8 bytes, big-endian)
    frame*:  length L (4 bytes) | nonce (12 bytes) | ciphertext + tag (L bytes)

A frame's authenticated data is ``store id | generation | sequence number | L``, so a frame cannot be moved,
replayed, dropped from the middle or copied in from another store (or an older generation of this one) without
failing authentication. Nonces are random, never derived from the sequence: after a torn write the same sequence
number is written again with other content, and a repeated GCM nonce would leak the key stream.

Frame plaintext: one kind byte, then the body. Kind 1 is a snapshot of every table (always frame 0 of a
generation): written as packed documents (``encode_snapshot``: each table's zstd dictionary and its documents as
the store holds them in memory, ``packed.py``), or, by earlier versions, as the orjson ``{table: {doc_id: doc}}``
(still read). Kind 2 is a delta: the documents one save wrote, each as its own orjson text, and the ids it deleted
(``delta_pieces``), or, by earlier versions, orjson ``[[table, {doc_id: doc}, [deleted ids], cleared], ...]``.
Neither is parsed as a whole on open: each document goes into its table as packed bytes. Bodies over 64 KiB
(snapshots, bulk imports, pulled pages) are compressed before sealing, flagged in the kind byte: 0x40 zstd (level 1,
what is written now: ~3x faster to unpack than zlib, which is on the open path), 0x80 zlib (written by earlier
versions, still read). Envelopes repeat their stamps and field names, so a snapshot shrinks ~13x; single saves stay
uncompressed to keep them fast.
"""

from __future__ import annotations

import gc
import re
import secrets
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson
import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from field_agent.store.errors import StoreCorrupted
from field_agent.store.packed import PackedTable, Packer

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
MIN_FRAME_LENGTH = TAG_SIZE + 1  # the kind byte and the tag
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
RESYNC_SEQS = 4096  # frame numbers tried at a candidate offset after damage
RESYNC_BUDGET = 64 << 20  # bytes authenticated while looking for the next intact frame (at least)

SNAPSHOT_MAGIC = b"FAS2"  # a snapshot of packed documents (v1 snapshots are orjson and start with "{")
DELTA_MAGIC = b"FAD2"  # a delta of documents as orjson texts (v1 deltas are one orjson list and start with "[")

Tables = dict[str, PackedTable]


def frame_aad(store_id: bytes, generation: int, seq: int, length: int) -> bytes:
    return AAD_PREFIX + store_id + generation.to_bytes(8, "big") + seq.to_bytes(8, "big") + length.to_bytes(4, "big")


def seal_frame(aead: AESGCM, store_id: bytes, generation: int, seq: int, kind: int, body: bytes) -> bytes:
    """One frame's bytes, ready to append."""
    if len(body) > COMPRESS_OVER and not kind & (ZSTD | COMPRESSED):  # else compressed already (``pack_body``)
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
    # frames whose length field was damaged but whose bytes authenticate with the length the next frame implies
    # (salvage keeps them)
    recovered: list[int] = field(default_factory=list)

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


def read_log(path: Path) -> bytes:
    """The whole log file; StoreCorrupted if it is missing (a store without its log cannot be opened)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreCorrupted(
            path,
            None,
            f"the log file {path.name} is missing",
            "restore it from a backup of this store, or make a new store (field-agent init), enrol it and sync to "
            "get the grid's records back from the server",
        ) from None


def scan_log(
    path: Path, store_id: bytes, data_key: bytes, *, salvage: bool = False, data: bytes | None = None
) -> ScanResult:
    """Authenticate every frame in order (of ``data`` if given, else of the file). Without ``salvage`` stop at the
    first damage; with it, go on from the next frame that authenticates, wherever it starts.

    A frame whose length runs past the end of the file is a torn save only if no authentic frame follows it: a
    damaged length field must never make intact saves after it look like an unfinished write."""
    if data is None:
        data = read_log(path)
    size = len(data)
    if size < FILE_HEADER_SIZE or data[: len(MAGIC)] != MAGIC:
        raise StoreCorrupted(path, 0, "the log does not start with a Field Agent log header")
    if data[len(MAGIC) : len(MAGIC) + 16] != store_id:
        raise StoreCorrupted(path, len(MAGIC), "the log belongs to another store")
    generation = int.from_bytes(data[len(MAGIC) + 16 : FILE_HEADER_SIZE], "big")
    result = ScanResult(generation, size)
    finder = FrameFinder(data, store_id, generation, data_key)
    pos, seq = FILE_HEADER_SIZE, 0
    while pos < size:
        found: tuple[int, int] | None = None
        remaining = size - pos
        if remaining < FRAME_PREFIX:  # too short to hold a frame, let alone one after it
            result.torn_bytes = remaining
            break
        length = int.from_bytes(data[pos : pos + 4], "big")
        end = pos + FRAME_PREFIX + length
        if length < MIN_FRAME_LENGTH or length > MAX_FRAME:
            if _zeros_from(data, pos):
                result.torn_bytes = remaining  # zero-filled tail: space allocated, data never written
                break
            found = finder.next_after(pos, seq)
            if found is None and not finder.gave_up:
                # a save torn before its first sector reached the disk reads like this; the marker decides
                result.last_frame_failed = (pos, seq)
            problem = f"frame {seq} has an impossible length ({length} bytes)"
        elif end > size:
            found = finder.next_after(pos, seq)
            if found is None and not finder.gave_up:
                result.torn_bytes = remaining  # the file ends inside the last frame: an unfinished save
                break
            problem = (
                f"frame {seq}'s length field is damaged: it claims {length} bytes, past the end of the log, but "
                f"frame {found[1]} follows intact at byte {found[0]} (this is not an unfinished save)"
                if found is not None
                else f"frame {seq} claims {length} bytes, past the end of the log, and intact frames after it "
                "could not be ruled out (not treated as an unfinished save)"
            )
        else:
            frame = finder.open(pos, seq, length)
            if frame is not None:
                result.frames.append(frame)
                pos, seq = end, seq + 1
                result.end = pos
                continue
            if _zeros_from(data, end):  # nothing but zeros after it: possibly a torn save
                result.last_frame_failed = (pos, seq)
            problem = f"frame {seq} fails authentication (altered, moved or from another store)"
        result.damage.append(StoreCorrupted(path, pos, problem))
        if not salvage:
            break
        if found is None:
            found = finder.next_after(pos, seq)
        if found is None:
            break
        next_pos, next_seq = found
        between = next_pos - pos - FRAME_PREFIX
        frame = finder.open(pos, seq, between) if next_seq == seq + 1 and next_pos > pos else None
        if frame is not None:  # only its length field was damaged: the frame itself is intact
            result.frames.append(frame)
            result.recovered.append(pos)
        pos, seq = next_pos, next_seq
        result.end = pos
    return result


def _zeros_from(data: bytes, start: int) -> bool:
    return data.count(0, start) == len(data) - start


class FrameFinder:
    """Opens frames of one log, and finds the next frame that authenticates after damage without trusting any
    length field: every offset whose length could fit is tried, but only after the first cipher block (one AES
    call, no authentication) decrypts to a plausible frame start."""

    def __init__(self, data: bytes, store_id: bytes, generation: int, data_key: bytes) -> None:
        self.data = data
        self.view = memoryview(data)
        self.store_id = store_id
        self.generation = generation
        self.aead = AESGCM(data_key)
        self.block = Cipher(algorithms.AES(data_key), modes.ECB()).encryptor()
        self.budget = max(RESYNC_BUDGET, 4 * len(data))  # bytes authenticated while searching
        self.gave_up = False  # the budget ran out: a later intact frame cannot be ruled out

    def open(self, pos: int, seq: int, length: int) -> Frame | None:
        """The frame at ``pos`` if it authenticates as frame ``seq`` of ``length`` bytes."""
        view = self.view
        end = pos + FRAME_PREFIX + length
        if length < MIN_FRAME_LENGTH or end > len(self.data):
            return None
        try:
            aad = frame_aad(self.store_id, self.generation, seq, length)
            plaintext = self.aead.decrypt(view[pos + 4 : pos + FRAME_PREFIX], view[pos + FRAME_PREFIX : end], aad)
        except InvalidTag:
            return None
        kind, body = plaintext[0], plaintext[1:]
        if kind & COMPRESSED:
            kind, body = kind & ~COMPRESSED, zlib.decompress(body)
        elif kind & ZSTD:
            # decompressobj: a body compressed as it was made (``pack_body``) has no content size in its header
            kind, body = kind & ~ZSTD, zstandard.ZstdDecompressor().decompressobj().decompress(body)
        return Frame(pos, seq, kind, body)

    def next_after(self, damaged: int, seq: int) -> tuple[int, int] | None:
        """(offset, number) of the first frame after the damaged one at ``damaged`` (frame ``seq``) that
        authenticates as one of the frames that can follow it; None if there is none (or the search gave up)."""
        data, size = self.data, len(self.data)
        pos = damaged  # the damaged frame itself may be an intact later frame, moved
        while True:
            room = size - pos - FRAME_PREFIX  # the longest frame that could start here
            if room < MIN_FRAME_LENGTH + 1:
                return None
            pos = self._skip_to_fitting_length(pos, room)
            if pos < 0:
                return None
            length = int.from_bytes(data[pos : pos + 4], "big")
            if MIN_FRAME_LENGTH < length <= size - pos - FRAME_PREFIX and self._plausible(pos, length):
                # the next frame, or (if several were damaged, or one was inserted) a later or the same number
                most = min(RESYNC_SEQS, 2 + (pos - damaged) // (FRAME_PREFIX + MIN_FRAME_LENGTH))
                for candidate in (seq + 1, seq, *range(seq + 2, seq + most)):
                    if pos == damaged and candidate == seq:
                        continue  # already failed
                    if self.budget <= 0:
                        self.gave_up = True
                        return None
                    self.budget -= length
                    if self.open(pos, candidate, length) is not None:
                        return pos, candidate
            pos += 1

    def _skip_to_fitting_length(self, pos: int, room: int) -> int:
        """The first offset from ``pos`` whose length field's leading bytes allow a length of at most ``room``."""
        if room >= 1 << 24:
            top = min(room >> 24, 255)
            match = re.compile(b"[\\x00-" + re.escape(bytes((top,))) + b"]").search(self.data, pos)
            return match.start() if match else -1
        zeros = b"\x00" * (4 - (room.bit_length() + 7) // 8)
        return self.data.find(zeros, pos)

    def _plausible(self, pos: int, length: int) -> bool:
        """Does the frame at ``pos`` start like a frame once its first block is decrypted (counter mode, GCM's
        first counter block after J0 = nonce | 1)?"""
        head = self.data[pos + FRAME_PREFIX : pos + FRAME_PREFIX + min(16, length - TAG_SIZE)]
        keystream = self.block.update(self.data[pos + 4 : pos + FRAME_PREFIX] + b"\x00\x00\x00\x02")
        start = bytes(a ^ b for a, b in zip(head, keystream, strict=False))
        kind, body = start[0], start[1:]
        if kind & ZSTD and kind & COMPRESSED:
            return False
        base = kind & ~(ZSTD | COMPRESSED)
        if base not in (SNAPSHOT, DELTA):
            return False
        if kind & ZSTD:
            return body[:4] == ZSTD_MAGIC[: len(body)]
        if kind & COMPRESSED:
            return len(body) < 2 or (body[0] & 0x0F == 8 and ((body[0] << 8) | body[1]) % 31 == 0)
        return body[:1] in ((b"{", b"F", b"") if base == SNAPSHOT else (b"[", b"F", b""))


def apply_frame(tables: Tables, frame: Frame) -> None:
    """Replay one frame onto the in-memory tables."""
    if frame.kind == SNAPSHOT:
        tables.clear()
        tables.update(decode_snapshot(frame.body))
        return
    if frame.kind != DELTA:
        raise ValueError(f"unknown frame kind {frame.kind}")
    body = frame.body
    if body[:4] == DELTA_MAGIC:
        for name, cleared, deletes, texts in decode_delta(body):
            table = _emptied(tables, name, cleared, deletes)
            for doc_id, text in texts:
                table.put_json(doc_id, text)
        return
    for name, upserts, deletes, cleared in orjson.loads(body):
        _emptied(tables, name, cleared, deletes).update(upserts)


def _emptied(tables: Tables, name: str, cleared: bool, deletes: list[str]) -> PackedTable:
    """The table ``name`` (made if new) with a delta's clearing and deletions applied."""
    table = tables.get(name)
    if table is None:
        table = tables[name] = PackedTable()
    if cleared:
        table.clear()
    for doc_id in deletes:
        table.pop(doc_id, None)
    return table


# A delta: MAGIC | u32 tables, then per table: u16 name length | name | u8 cleared | u32 deleted ids, each u16 length |
# id | u32 documents, each u16 id length | id | u32 text length | orjson text.
DeltaOp = tuple[str, list[str], list[str], bool]  # table, ids written (their documents are in the live table), deleted


def delta_pieces(ops: list[DeltaOp], tables: Mapping[str, PackedTable], step: int = 500) -> Iterator[bytes]:
    """A delta frame's body in pieces of ``step`` documents, the documents' texts taken from the live tables."""
    pack_u16, pack_u32 = _TABLE.pack, _U32.pack
    yield DELTA_MAGIC + pack_u32(len(ops))
    for name, written, deleted, cleared in ops:
        encoded = name.encode()
        head = [pack_u16(len(encoded)) + encoded + (b"\x01" if cleared else b"\x00") + pack_u32(len(deleted))]
        for key in deleted:
            ident = key.encode()
            head.append(pack_u16(len(ident)) + ident)
        head.append(pack_u32(len(written)))
        yield b"".join(head)
        table = tables[name]
        text, blobs = table.packer.json, table.blobs
        piece: list[bytes] = []
        for key in written:
            ident, doc = key.encode(), text(blobs[key])
            piece.append(pack_u16(len(ident)) + ident + pack_u32(len(doc)) + doc)
            if len(piece) == step:
                yield b"".join(piece)
                piece = []
        if piece:
            yield b"".join(piece)


def decode_delta(body: bytes) -> Iterator[tuple[str, bool, list[str], Iterator[tuple[str, bytes]]]]:
    """(table, cleared, deleted ids, (id, orjson text) pairs) of a delta body made by ``delta_pieces``; consume each
    table's pairs before the next table."""
    unpack_u16, unpack_u32 = _TABLE.unpack_from, _U32.unpack_from
    (count,) = unpack_u32(body, 4)
    cursor = [8]

    def texts(documents: int) -> Iterator[tuple[str, bytes]]:
        pos = cursor[0]
        for _document in range(documents):
            (size,) = unpack_u16(body, pos)
            key = body[pos + 2 : pos + 2 + size].decode()
            pos += 2 + size
            (size,) = unpack_u32(body, pos)
            yield key, body[pos + 4 : pos + 4 + size]
            pos += 4 + size
        cursor[0] = pos

    for _table in range(count):
        pos = cursor[0]
        (size,) = unpack_u16(body, pos)
        name = body[pos + 2 : pos + 2 + size].decode()
        pos += 2 + size
        cleared = body[pos] == 1
        (deletes,) = unpack_u32(body, pos + 1)
        pos += 5
        deleted = []
        for _deleted in range(deletes):
            (size,) = unpack_u16(body, pos)
            deleted.append(body[pos + 2 : pos + 2 + size].decode())
            pos += 2 + size
        (documents,) = unpack_u32(body, pos)
        cursor[0] = pos + 4
        pairs = texts(documents)
        yield name, cleared, deleted, pairs
        for _rest in pairs:  # the caller skipped them
            pass


# A packed snapshot: MAGIC | u32 tables, then per table: u16 name length | name | u32 dictionary length |
# dictionary | u32 documents | u32 length of the ids | the ids, joined by NUL | u32 per document, its blob's length |
# the blobs, one after the other | u32 length of the hint | the hint (what the store's index needs of each
# document, orjson, or nothing: ``indexes.RecordIndex.hint``); then u64, the size of the documents as orjson text
# (for the compaction trigger, which compares like with like). Ids and lengths come in one block each, so that
# opening splits them in C.
_TABLE = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
assert array("I").itemsize == 4, "the snapshot format stores blob lengths as 4-byte unsigned integers"


def snapshot_pieces(
    tables: Mapping[str, Mapping[str, Any]], step: int = 500, hints: Mapping[str, bytes] | None = None
) -> Iterator[bytes]:
    """The packed snapshot of ``tables`` in pieces of ``step`` documents (a ``PackedTable``'s blobs are taken as
    they are; a plain dict's documents are packed without a dictionary), with a table's hint from ``hints`` if
    given. The tables must not change meanwhile (pass ``PackedTable.frozen()`` copies)."""
    hints = hints or {}
    pack_u16, pack_u32 = _TABLE.pack, _U32.pack
    yield SNAPSHOT_MAGIC + pack_u32(len(tables))
    text_bytes = 0
    for name, table in tables.items():
        if isinstance(table, PackedTable):
            packer, blobs = table.packer, table.blobs
        else:
            packer, blobs = Packer(), {key: orjson.dumps(doc) for key, doc in table.items()}
        dictionary = packer.dictionary or b""
        encoded = name.encode()
        ids = "\0".join(blobs).encode()
        if len(blobs) > 1 and ids.count(0) != len(blobs) - 1:
            raise ValueError("a document id holds a NUL character")
        sizes = array("I", map(len, blobs.values()))
        if sys.byteorder != "big":
            sizes.byteswap()
        yield (
            pack_u16(len(encoded))
            + encoded
            + pack_u32(len(dictionary))
            + dictionary
            + pack_u32(len(blobs))
            + pack_u32(len(ids))
            + ids
            + sizes.tobytes()
        )
        piece: list[bytes] = []
        for blob in blobs.values():
            piece.append(blob)
            text_bytes += len(blob) if blob[0] == 0x7B else zstandard.frame_content_size(blob)
            if len(piece) == step:
                yield b"".join(piece)
                piece = []
        if piece:
            yield b"".join(piece)
        hint = hints.get(name, b"")
        yield pack_u32(len(hint)) + hint
    yield _U64.pack(text_bytes)


def encode_snapshot(tables: Mapping[str, Mapping[str, Any]], hints: Mapping[str, bytes] | None = None) -> bytes:
    return b"".join(snapshot_pieces(tables, hints=hints))


def snapshot_text_bytes(body: bytes) -> int:
    """The size of a snapshot's documents as orjson text (what a delta holding them would take)."""
    if body[:4] == SNAPSHOT_MAGIC:
        return int(_U64.unpack_from(body, len(body) - 8)[0])
    return len(body)


def pieces_text_bytes(pieces: list[bytes]) -> int:
    """``snapshot_text_bytes`` of a packed snapshot made by ``snapshot_pieces`` (its last piece ends with the size)."""
    return int(_U64.unpack_from(pieces[-1], len(pieces[-1]) - 8)[0])


def decode_snapshot(body: bytes) -> Tables:
    """The tables of a snapshot body, packed (either format)."""
    if body[:4] != SNAPSHOT_MAGIC:
        return {name: PackedTable.of(documents) for name, documents in orjson.loads(body).items()}
    unpack_u16, unpack_u32 = _TABLE.unpack_from, _U32.unpack_from
    (count,) = unpack_u32(body, 4)
    pos = 8
    tables: Tables = {}
    for _table in range(count):
        (size,) = unpack_u16(body, pos)
        name = body[pos + 2 : pos + 2 + size].decode()
        pos += 2 + size
        (size,) = unpack_u32(body, pos)
        dictionary = body[pos + 4 : pos + 4 + size]
        pos += 4 + size
        documents, size = unpack_u32(body, pos)[0], unpack_u32(body, pos + 4)[0]
        pos += 8
        ids = body[pos : pos + size].decode().split("\0") if documents else []
        pos += size
        sizes = array("I")
        sizes.frombytes(body[pos : pos + 4 * documents])
        if sys.byteorder != "big":
            sizes.byteswap()
        pos += 4 * documents
        ends = list(accumulate(sizes, initial=pos))
        blobs = dict(zip(ids, map(body.__getitem__, map(slice, ends, ends[1:])), strict=True))
        pos = ends[-1]
        table = tables[name] = PackedTable(blobs, Packer(dictionary))
        (size,) = unpack_u32(body, pos)
        table.hint = body[pos + 4 : pos + 4 + size] or None
        if table.hint is not None:
            table.hint_ids = ids
        pos += 4 + size
    return tables


def plain_tables(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every table as a plain dict of unpacked documents (for checks and tools, not for the store's own paths)."""
    return {name: dict(table.items()) for name, table in tables.items()}


def frame_documents(frame: Frame) -> Iterable[tuple[str, str, Any]]:
    """(table, id, document) of every document a frame writes, unpacked (for checks that look inside frames)."""
    if frame.kind == SNAPSHOT:
        for name, table in decode_snapshot(frame.body).items():
            for key, document in table.items():
                yield name, key, document
        return
    if frame.body[:4] == DELTA_MAGIC:
        for name, _cleared, _deleted, texts in decode_delta(frame.body):
            for key, text in texts:
                yield name, key, orjson.loads(text)
        return
    for name, upserts, _deletes, _cleared in orjson.loads(frame.body):
        for key, document in upserts.items():
            yield name, key, document


def frame_text(frame: Frame) -> bytes:
    """Every document a frame writes, as orjson text (what a search for a value in a frame must look at)."""
    return b"\n".join(orjson.dumps(document) for _name, _key, document in frame_documents(frame))


FREEZE_AT_BYTES = 4 << 20


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic GC while a load builds many small objects; the GC would rescan them over and over.

    The GC's switch and its frozen objects belong to the whole process, not to the store: on the way out, an
    exception included, the GC is switched back on only if it was on, and nothing is left frozen. With ``freeze``
    (a big load) the objects built meanwhile go straight to the oldest generation (``gc.freeze()`` then
    ``gc.unfreeze()``), so the next young collection does not walk them all; only when nothing was frozen before,
    as ``gc.unfreeze()`` also releases what a caller froze. An app that keeps the data for its whole run may
    freeze it for good itself (the terminal app does, and unfreezes on exit)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def replay(frames: list[Frame]) -> Tables:
    tables: Tables = {}
    with gc_paused(freeze=sum(len(frame.body) for frame in frames) >= FREEZE_AT_BYTES):
        for frame in frames:
            apply_frame(tables, frame)
    return tables


def pack_body(kind: int, pieces: Iterable[bytes]) -> tuple[int, bytes, int]:
    """(kind, body, size before compression) of a frame made of ``pieces``: compressed with zstd as the pieces come
    once they pass ``COMPRESS_OVER`` (flagged in the kind), so a big body never exists uncompressed in one piece."""
    head: list[bytes] = []
    size = 0
    iterator = iter(pieces)
    for piece in iterator:
        head.append(piece)
        size += len(piece)
        if size > COMPRESS_OVER:
            break
    else:
        return kind, b"".join(head), size
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    out = [compressor.compress(b"".join(head))]
    del head
    for piece in iterator:
        size += len(piece)
        out.append(compressor.compress(piece))
    out.append(compressor.flush())
    return kind | ZSTD, b"".join(out), size
