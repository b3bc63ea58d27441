"""``seed-demo``: the domain's generated demo town, written grid by grid with the server's clock."""

from __future__ import annotations

from typing import Any

from server_stub.db.base import Database
from server_stub.errors import ServerError
from server_stub.records import Edit, write_records


def seed_demo(db: Database, *, grids: int = 1, households: int = 300, seed: int = 1) -> dict[str, Any]:
    """Write a demo town (deterministic for a seed) and return its grid ids and record counts."""
    try:
        from field_agent.domain.demo import generate_demo
    except ImportError as error:  # pragma: no cover - only while the domain package lacks the generator
        raise ServerError("the demo town generator (field_agent.domain.demo) is not in this build") from error
    by_grid: dict[str, list[Edit]] = {}
    for record in generate_demo(seed=seed, grids=grids, households_per_grid=households):
        sets = {name: dict.fromkeys(elements, True) for name, elements in (record.sets or {}).items()}
        by_grid.setdefault(record.grid, []).append(Edit(record.kind, record.record_id, dict(record.values), sets))
    counts: dict[str, int] = {}
    for grid, edits in by_grid.items():
        edits.sort(key=lambda edit: edit.kind != "grid")
        counts[grid] = write_records(db, grid, edits, validate=False)
    return {"grids": list(by_grid), "records": counts, "seed": seed}
