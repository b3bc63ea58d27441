"""Fixtures for store tests: a fresh store with the cheap key-derivation profile, and no back-off sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from field_agent.store import Store, throttle
from field_agent.store.log import FILE_HEADER_SIZE, FRAME_PREFIX

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store.create(store_dir, PASSPHRASE, grid="grid-1") as opened:
        yield opened


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record back-off delays instead of sleeping."""
    delays: list[float] = []
    monkeypatch.setattr(throttle, "sleep", delays.append)
    return delays


def resident_values(household: str, name: str, sequence: int = 1, **extra: object) -> dict[str, object]:
    """A valid resident record (the ID number passes its checksum)."""
    from datetime import date

    from field_agent.domain.idnumber import make_id_number

    id_number = make_id_number(
        "350181", date(1950 + sequence % 60, 1 + sequence % 12, 1 + sequence % 28), sequence % 500, "male"
    )
    return {"household": household, "name": name, "id_number": id_number, "residency": "resident", **extra}


def frame_offsets(log: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame in a log file, read by its length fields."""
    spans, position = [], FILE_HEADER_SIZE
    while position < len(log):
        end = position + FRAME_PREFIX + int.from_bytes(log[position : position + 4], "big")
        spans.append((position, end))
        position = end
    return spans
