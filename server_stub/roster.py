"""``roster import`` on the server: the shared roster parser, then office writes into one grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_import import plan_import
from field_agent.ledgers.roster_report import ImportReport
from field_agent.ledgers.roster_words import RosterWords
from server_stub.db.base import Database
from server_stub.errors import NotFound
from server_stub.records import Edit, write_records

NO_GRID = {
    "zh_CN": "没有网格 {grid!r}：见 'field-server grid list'",
    "en": "no grid {grid!r}: see 'field-server grid list'",
}


def import_roster(
    db: Database,
    path: Path,
    grid: str,
    *,
    skip_invalid: bool = False,
    sheet: str | None = None,
    words: RosterWords | Path | None = None,
    language: str = "zh_CN",
) -> ImportReport:
    """Import a roster into a grid (all rows, or none when a row is bad unless ``skip_invalid``); the report.
    ``sheet`` reads only that sheet of an .xlsx; ``words`` is the words table or the town's words file."""
    record = db.get_record(grid)
    if record is None or record["kind"] != "grid":
        raise NotFound(NO_GRID.get(language, NO_GRID["en"]).format(grid=grid), code="grid_not_found")
    report = ImportReport(parsed=parse_roster(path, sheet=sheet, words=words))
    if report.parsed.errors and not skip_invalid:
        return report
    report.plan = plan_import(report.parsed.rows, db.iter_records(grid), grid=grid)
    edits = [Edit(w.kind, w.record_id, w.values, w.set_changes) for w in report.plan.writes]
    # the parser already checked every row with the domain rules; a second pass per edit would only cost time
    write_records(db, grid, edits, validate=False)
    report.imported = True
    report.skipped = list(report.parsed.errors)
    return report


def report_dict(report: ImportReport, grid: str, language: str) -> dict[str, Any]:
    """The report for ``--json``: the grid, English keys, reasons in ``language``."""
    return {"grid": grid, **report.as_dict(language)}
