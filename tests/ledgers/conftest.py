"""Shared fixtures: the hand-made town, the generated demo town, and an unlocked store holding the demo grid."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from field_agent.domain.demo import demo_envelopes, generate_demo
from field_agent.domain.hlc import HybridClock

from .town import TODAY, build_town, with_key_person_tags

PASSPHRASE = "东门社区 grid ledger test passphrase 2026"


@pytest.fixture(scope="session")
def town() -> list[dict[str, Any]]:
    return build_town()


@pytest.fixture(scope="session")
def demo_records() -> list[Any]:
    return with_key_person_tags(generate_demo(seed=7, grids=2, households_per_grid=25, today=TODAY))


@pytest.fixture(scope="session")
def demo(demo_records: list[Any]) -> list[dict[str, Any]]:
    ticks = itertools.count(1_764_000_000_000)
    return demo_envelopes(demo_records, HybridClock("0123456789ab", now_ms=lambda: next(ticks)))


def make_store(path: Path, records: list[Any], *, role: str, worker: str = "林网格") -> Path:
    """A real encrypted store holding one demo grid, enrolled with ``role``; returns its directory."""
    from field_agent.store import Store

    grid = records[0].grid
    with Store.create(path, PASSPHRASE, grid=grid) as store:
        store.meta_set("role", role)
        store.meta_set("worker", worker)
        with store.batch():
            for record in records:
                if record.grid != grid:
                    continue
                sets = {name: dict.fromkeys(items, True) for name, items in record.sets.items()}
                store.put(record.kind, record.values, record_id=record.record_id, set_changes=sets or None)
    return path


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELD_AGENT_PASSPHRASE", PASSPHRASE)
