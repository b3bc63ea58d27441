"""The store's tables in memory: every document kept as packed bytes, unpacked only when it is read.

A record's envelope as Python objects (dicts of fields and stamps, a str per value and per stamp) costs ~2.5 KB of
memory; as orjson bytes ~0.9 KB; compressed with a zstd dictionary trained on the table's own documents ~0.15–0.3
KB. So a ``PackedTable`` holds ``id -> bytes`` and unpacks a document (zstd + orjson: a few microseconds) each time
it is read. What it hands out is a fresh object: a caller may change it, and must save it to change the table.

A packed document is either plain orjson (it starts with ``{``) or a zstd frame made with the table's dictionary
(``Packer``). The dictionary is trained once the table holds ``TRAIN_AT`` documents, from a sample of them, and is
written into every snapshot frame with the blobs that use it (``log.encode_snapshot``), so that opening a store
takes the packed documents as they are, without packing them again.
"""

from __future__ import annotations

import threading
from collections.abc import ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from typing import Any

import orjson
import zstandard

TRAIN_AT = 2_000
TRAIN_SAMPLES = 600
DICTIONARY_SIZE = 16 << 10
LEVEL = 3
PLAIN = ord("{")


class Packer:
    """Packs documents with one zstd dictionary (or none: plain orjson). A new dictionary is a new ``Packer``, so a
    copy of a table keeps the packer its blobs were made with; a packer without one points to its ``successor``
    (the table's packer once trained), so a reader that took the old packer just before the table was repacked
    still unpacks the new blobs."""

    __slots__ = ("_compressor", "_local", "dictionary", "successor")

    def __init__(self, dictionary: bytes | None = None) -> None:
        self.dictionary = dictionary or None
        self.successor: Packer | None = None
        self._local = threading.local()  # zstd (de)compressors are not safe to share between threads
        self._compressor: zstandard.ZstdCompressionDict | None = (
            zstandard.ZstdCompressionDict(dictionary) if dictionary else None
        )

    def _tools(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        tools: tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor] | None = getattr(self._local, "tools", None)
        if tools is None:
            tools = (
                zstandard.ZstdCompressor(
                    level=LEVEL, dict_data=self._compressor, write_checksum=False, write_dict_id=False
                ),
                zstandard.ZstdDecompressor(dict_data=self._compressor),
            )
            self._local.tools = tools
        return tools

    def pack(self, document: Any) -> bytes:
        return self.pack_json(orjson.dumps(document))

    def pack_json(self, data: bytes) -> bytes:
        if self._compressor is None:
            return data
        # copied: zstd hands back a bytes object that keeps its whole worst-case output buffer allocated (several
        # times the packed size), which a table of 100,000 documents would keep for good
        return bytes(memoryview(self._tools()[0].compress(data)))

    def unpack(self, blob: bytes) -> Any:
        return orjson.loads(self.json(blob))

    def json(self, blob: bytes) -> bytes:
        """The document's orjson text."""
        if blob[0] == PLAIN:
            return blob
        if self._compressor is None:
            if self.successor is None:
                raise ValueError("a packed document needs the table's dictionary")
            return self.successor.json(blob)
        return self._tools()[1].decompress(blob)


def train(blobs: list[bytes], packer: Packer) -> Packer | None:
    """A packer with a dictionary trained on (a sample of) these documents; None if zstd cannot train one."""
    step = max(1, len(blobs) // TRAIN_SAMPLES)
    samples = [packer.json(blob) for blob in blobs[::step][:TRAIN_SAMPLES]]
    try:
        trained = zstandard.train_dictionary(DICTIONARY_SIZE, samples, level=LEVEL)
    except zstandard.ZstdError:
        return None
    return Packer(trained.as_bytes())


class PackedItems(ItemsView[str, Any]):
    """(id, document) pairs of a copy of the table's blobs taken when iteration starts: a save in another thread
    cannot change the table under the loop."""

    _mapping: PackedTable

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        table = self._mapping
        unpack = table.packer.unpack
        for key, blob in list(table.blobs.items()):
            yield key, unpack(blob)


class PackedValues(ValuesView[Any]):
    _mapping: PackedTable

    def __iter__(self) -> Iterator[Any]:
        table = self._mapping
        return map(table.packer.unpack, list(table.blobs.values()))


class PackedTable(MutableMapping[str, Any]):
    """``id -> document`` kept as packed bytes; reading unpacks a fresh copy (see the module docstring)."""

    __slots__ = ("blobs", "hint", "hint_ids", "hint_stale", "packer", "tried")

    def __init__(self, blobs: dict[str, bytes] | None = None, packer: Packer | None = None) -> None:
        self.blobs: dict[str, bytes] = {} if blobs is None else blobs
        packer = packer or Packer()
        self.packer = packer
        self.tried = packer.dictionary is not None  # a dictionary was trained (or training failed) already
        # what the snapshot said of its documents for the store's index (``indexes.RecordIndex``), until the index
        # takes it; the ids written since it was loaded, whose part of it is out of date
        self.hint: bytes | None = None
        self.hint_ids: list[str] = []  # the snapshot's ids, in the order of the hint
        self.hint_stale: set[str] = set()

    @classmethod
    def of(cls, documents: Mapping[str, Any]) -> PackedTable:
        table = cls()
        table.update(documents)
        return table

    # -- the mapping ---------------------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self.packer.unpack(self.blobs[key])

    def get(self, key: str, default: Any = None) -> Any:
        blob = self.blobs.get(key)
        return default if blob is None else self.packer.unpack(blob)

    def __setitem__(self, key: str, value: Any) -> None:
        self.put_json(key, orjson.dumps(value))

    def put_json(self, key: str, text: bytes) -> None:
        """Put a document given as its orjson text (not parsed: packed as it is)."""
        self.put_blob(key, self.packer.pack_json(text))
        if not self.tried and len(self.blobs) >= TRAIN_AT:
            self.train()

    def __delitem__(self, key: str) -> None:
        del self.blobs[key]
        if self.hint is not None:
            self.hint_stale.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.blobs)

    def __len__(self) -> int:
        return len(self.blobs)

    def __contains__(self, key: object) -> bool:
        return key in self.blobs

    def items(self) -> PackedItems:
        return PackedItems(self)

    def values(self) -> PackedValues:
        return PackedValues(self)

    def clear(self) -> None:
        self.blobs.clear()
        self.hint = None

    def take_hint(self) -> tuple[bytes, list[str], set[str]] | None:
        """The snapshot's hint for the index, the snapshot's ids in its order, and the ids written since (once: it
        is dropped)."""
        hint, ids, stale = self.hint, self.hint_ids, self.hint_stale
        self.hint, self.hint_ids, self.hint_stale = None, [], set()
        return None if hint is None else (hint, ids, stale)

    # -- blobs ---------------------------------------------------------------------------------------------------

    def blob(self, key: str) -> bytes | None:
        return self.blobs.get(key)

    def put_blob(self, key: str, blob: bytes | None) -> None:
        """Put a blob packed by this table's packer (``None``: the key is absent); every write comes here."""
        if self.hint is not None:
            self.hint_stale.add(key)
        if blob is None:
            self.blobs.pop(key, None)
        else:
            self.blobs[key] = blob

    def frozen(self) -> PackedTable:
        """A copy of the blobs (not of the documents) with the packer they were made with: a consistent picture of
        the table that later saves do not change."""
        copy = PackedTable(self.blobs.copy(), self.packer)
        copy.tried = True
        return copy

    def retrain(self) -> None:
        """Pack every document again with a dictionary trained on the documents the table holds now, or with none
        below ``TRAIN_AT``. A trained dictionary is made of pieces of the documents it was trained on, so once
        documents were erased the old one may still hold their values (run before the erasure's compaction).

        The blobs are unpacked to plain orjson before the new packer is set: a reader that took the old packer can
        read plain blobs, and ``train`` then hands over from the plain packer as it always does."""
        old = self.packer
        if old.dictionary is None:
            return
        self.blobs.update({key: old.json(blob) for key, blob in self.blobs.items()})
        self.packer = Packer()
        self.tried = False
        if len(self.blobs) >= TRAIN_AT:
            self.train()

    def train(self) -> None:
        """Train a dictionary on the table's documents and pack every document with it (once per table, and again
        by ``retrain``)."""
        self.tried = True
        packer = train(list(self.blobs.values()), self.packer)
        if packer is None:
            return
        old = self.packer
        repacked = {key: packer.pack_json(old.json(blob)) for key, blob in self.blobs.items()}
        if old.dictionary is None:
            old.successor = packer
        self.packer = packer  # before the blobs (and the old one points to it): every reader can unpack them
        self.blobs.update(repacked)
