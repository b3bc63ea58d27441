"""A snapshot frame built in small steps, so that a thread building it never holds the GIL for long.

Joining 200,000 packed records holds the GIL for a while, AES-GCM over tens of megabytes for ~40 ms, and joining
the pieces copies them under the GIL too: a save in another thread would wait that long. Here the snapshot is
made 250 documents at a time (byte for byte what ``encode_snapshot`` makes), compressed with zstd and sealed with
AES-GCM 256 KiB at a time, handing the GIL over between steps (a thread waiting for the GIL otherwise waits out the
5 ms switch interval each time); the frame is a list of pieces, written in turn.
The result reads back as one ordinary zstd-compressed snapshot frame (``log.FrameFinder.open``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping

import zstandard
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from field_agent.store.log import TAG_SIZE, ZSTD, Tables, frame_aad
from field_agent.store.log import snapshot_pieces as packed_pieces

DOCS_PER_PIECE = 250
SEAL_STEP = 256 << 10


class Cancelled(Exception):
    """The snapshot is no longer wanted (the store compacted or closed meanwhile)."""


def snapshot_pieces(
    tables: Tables, cancelled: Callable[[], bool] = lambda: False, hints: Mapping[str, bytes] | None = None
) -> Iterator[bytes]:
    """The packed snapshot of ``tables`` (byte for byte ``encode_snapshot``), ``DOCS_PER_PIECE`` documents a piece;
    pass ``PackedTable.frozen()`` copies: the blobs are copied as they are, nothing is unpacked."""
    for piece in packed_pieces(tables, DOCS_PER_PIECE, hints):
        if cancelled():
            raise Cancelled
        yield piece


def seal_pieces(
    data_key: bytes,
    store_id: bytes,
    generation: int,
    seq: int,
    kind: int,
    pieces: list[bytes],
    pause: Callable[[], None] = lambda: None,
) -> list[bytes]:
    """One zstd-compressed frame of ``kind`` whose body is the pieces joined, as pieces: length and nonce, then the
    ciphertext 256 KiB at a time, then the tag. ``pause`` is called between steps (to hand over the GIL). The list
    ``pieces`` is emptied as they are compressed, and each compressed chunk dropped once sealed, so that the
    snapshot is held about twice over at most, not three times."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj(size=sum(map(len, pieces)))
    compressed = []
    for number, piece in enumerate(pieces):
        compressed.append(compressor.compress(piece))
        pieces[number] = b""
        pause()
    pieces.clear()
    compressed.append(compressor.flush())
    length = 1 + sum(map(len, compressed)) + TAG_SIZE
    nonce = secrets.token_bytes(12)
    encryptor = Cipher(algorithms.AES(data_key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(frame_aad(store_id, generation, seq, length))
    sealed = [length.to_bytes(4, "big") + nonce, encryptor.update(bytes((kind | ZSTD,)))]
    for number, chunk in enumerate(compressed):
        compressed[number] = b""
        view = memoryview(chunk)
        for start in range(0, len(view), SEAL_STEP):
            sealed.append(encryptor.update(view[start : start + SEAL_STEP]))
            pause()
        del view, chunk
    sealed.append(encryptor.finalize() + encryptor.tag)
    return sealed
