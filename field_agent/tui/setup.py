"""First run: a new store for one grid (its grid record and the worker as leader), or the demo town's grid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from field_agent.domain.ids import new_id
from field_agent.store import Store
from field_agent.tui.session import Session, wall_now

DEMO_SEED = 2022
DEMO_HOUSEHOLDS = 60


def store_exists(path: Path) -> bool:
    return Path(path).is_dir() and any(Path(path).iterdir())


def create_store(
    path: Path,
    passphrase: str,
    names: list[str],
    worker: str,
    demo: bool = False,
    now: Callable[[], datetime] = wall_now,
) -> Session:
    """Create the store (refusing a weak passphrase) and fill it with a new grid or the demo grid.

    ``names`` are the town, community and grid names of a new grid (ignored for the demo).
    """
    if demo:
        return _create_demo(path, passphrase, now)
    grid_id = new_id()
    store = Store.create(path, passphrase, grid=grid_id)
    store.put(
        "grid",
        {
            "town": names[0],
            "community": names[1],
            "name": names[2],
            "leader": worker,
            "mode": "normal",
            "members": [{"name": worker, "role": "information", "group": None, "phone": ""}],
        },
        record_id=grid_id,
    )
    store.meta_set("worker", worker)
    store.meta_set("role", "leader")
    return Session(store, now)


def _create_demo(path: Path, passphrase: str, now: Callable[[], datetime]) -> Session:
    from field_agent.domain.demo import generate_demo

    records = list(generate_demo(DEMO_SEED, grids=1, households_per_grid=DEMO_HOUSEHOLDS, today=now().date()))
    grid = next(r for r in records if r.kind == "grid")
    store = Store.create(path, passphrase, grid=grid.grid)
    load_records(store, [r for r in records if r.grid == grid.grid])
    store.meta_set("worker", grid.values.get("leader") or "")
    store.meta_set("role", "leader")
    return Session(store, now)


def load_records(store: Store, records: list) -> None:
    """Put demo records into a store in one batch."""
    with store.batch():
        for record in records:
            store.put(record.kind, record.values, record_id=record.record_id, set_changes=record.set_changes() or None)
