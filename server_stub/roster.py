"""``roster import`` on the server: the shared roster parser, then office writes into one grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_import import plan_import
from server_stub.db.base import Database
from server_stub.errors import NotFound
from server_stub.records import Edit, write_records


def import_roster(db: Database, path: Path, grid: str, *, skip_invalid: bool = False) -> dict[str, Any]:
    """Import a roster into a grid (all rows, or none when a row is bad unless ``skip_invalid``); a report."""
    record = db.get_record(grid)
    if record is None or record["kind"] != "grid":
        raise NotFound(f"no grid {grid!r}: see 'field-server grid list'", code="grid_not_found")
    parsed = parse_roster(path)
    errors = [error.as_dict() for error in parsed.errors]
    report: dict[str, Any] = {"grid": grid, "errors": errors, "imported": False}
    if errors and not skip_invalid:
        report["summary"] = {
            "rows": len(parsed.rows) + len({e["line"] for e in errors}),
            "bad_rows": len({e["line"] for e in errors}),
            "imported": 0,
        }
        return report
    plan = plan_import(parsed.rows, db.iter_records(grid), grid=grid)
    edits = [Edit(w.kind, w.record_id, w.values, w.set_changes) for w in plan.writes]
    # the parser already checked every row with the domain rules; a second pass per edit would only cost time
    write_records(db, grid, edits, validate=False)
    report["imported"] = True
    report["summary"] = {**plan.summary(len(parsed.rows)), "bad_rows": len({e["line"] for e in errors})}
    return report
