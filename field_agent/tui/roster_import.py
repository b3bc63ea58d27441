"""The roster import as the terminal app sees it: check a file without writing (``preview``), import it into the
session's store in one durable batch (``commit``), and say what was found in the app's language.

Every call the app makes into ``field_agent.ledgers`` for an import is in this module, so that a change of the
ledgers' import API is a change here, not in the screen. ``preview`` parses and plans as ``import_into_store``
does, and writes nothing; ``commit`` is ``import_into_store`` itself (what ``field-agent import`` runs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from field_agent.ledgers.device import ImportReport, LedgerStore, import_into_store, preview_import
from field_agent.ledgers.errors import LedgerError
from field_agent.ledgers.row_errors import RowError
from field_agent.tui.i18n import Translator

ROSTER_SUFFIXES = (".xlsx", ".csv")
"""The files the file picker offers (and the only ones ``preview`` reads)."""


class RosterProblem(Exception):
    """A file that cannot be imported, found before the ledgers read it; ``key`` is its catalog message."""

    def __init__(self, key: str, name: str) -> None:
        super().__init__(key)
        self.key = key
        self.name = name


@dataclass(frozen=True)
class RosterReport:
    """What a roster holds and, after ``commit``, what was imported."""

    path: Path
    good_rows: int
    bad_rows: int
    """Lines with at least one problem (none of them is imported)."""
    counts: Mapping[str, int]
    """``households_created``, ``residents_created``, ``residents_updated``, ``residents_unchanged`` (good rows)."""
    problems: tuple[RowError, ...] = ()
    ignored_headers: tuple[str, ...] = ()
    imported: bool = False
    sheet: str = ""
    """The sheets read (a .csv has none)."""

    @property
    def rows(self) -> int:
        return self.good_rows + self.bad_rows

    def count(self, name: str) -> int:
        return int(self.counts.get(name, 0))


def check_path(path: Path) -> None:
    """Refuse, in the app's words, a path that is no roster file at all (missing, a folder, another format)."""
    if not path.exists():
        raise RosterProblem("import.error.missing", path.name)
    if path.is_dir():
        raise RosterProblem("import.error.folder", path.name)
    if path.suffix.lower() not in ROSTER_SUFFIXES:
        raise RosterProblem("import.error.format", path.name)
    if not os.access(path, os.R_OK):
        raise RosterProblem("import.error.unreadable", path.name)


def _grid(store: LedgerStore) -> str:
    grid = store.meta_get("grid")
    if not grid:
        raise RosterProblem("import.error.no_grid", "")
    return str(grid)


def preview(store: LedgerStore, path: Path) -> RosterReport:
    """Read and check the roster and work out what importing it would change; writes nothing (blocks: call it
    from a worker thread)."""
    check_path(path)
    _grid(store)
    return _report(path, preview_import(store, path))


def commit(store: LedgerStore, path: Path, *, skip_invalid: bool) -> RosterReport:
    """Import the roster into ``store`` in one durable batch (``import_into_store``): all of it, or nothing when a
    row is bad, unless ``skip_invalid`` (then the good rows). The file is read again: what it holds now counts."""
    check_path(path)
    _grid(store)
    return _report(path, import_into_store(store, path, skip_invalid=skip_invalid))


def _report(path: Path, report: ImportReport) -> RosterReport:
    summary = report.summary()
    return RosterReport(
        path=path,
        good_rows=len(report.parsed.rows),
        bad_rows=report.bad_rows,
        counts={key: int(value) for key, value in summary.items() if key != "rows"},
        problems=tuple(report.parsed.errors),
        ignored_headers=tuple(report.parsed.ignored_headers),
        imported=report.imported,
        sheet="、".join(sheet.name for sheet in report.parsed.sheets if sheet.name),
    )


def row_problem_cells(error: RowError, t: Translator) -> tuple[str, str, str, str]:
    """One problem as the table shows it: sheet, line, column (letter and header), reason."""
    column = f"{error.column} {error.header}".strip() if error.column else "—"
    return error.sheet, str(error.line), column, error.reason_text(t.language)


def row_problem_line(error: RowError, t: Translator) -> str:
    """One problem in a full sentence (the table's cursor row, shown whole below it)."""
    sheet, line, _column, reason = row_problem_cells(error, t)
    if error.column:
        where = t("import.problem.cell", line=line, column=error.column, header=error.header)
    else:
        where = t("import.problem.row", line=line)
    if sheet:
        where = t("import.problem.sheet", sheet=sheet, where=where)
    return t("import.problem.line", where=where, reason=reason)


def summary_text(report: RosterReport, t: Translator) -> str:
    """What the roster holds and what importing it changes (or changed), in a few sentences."""
    name = report.path.name if not report.sheet else f"{report.path.name} · {report.sheet}"
    lines = [t("import.summary.rows", name=name, rows=report.rows, good=report.good_rows, bad=report.bad_rows)]
    changes = t(
        "import.summary.changes",
        households=report.count("households_created"),
        created=report.count("residents_created"),
        updated=report.count("residents_updated"),
        unchanged=report.count("residents_unchanged"),
    )
    lines.append(t("import.summary.done", changes=changes) if report.imported else changes)
    if report.bad_rows:
        key = "import.summary.skipped" if report.imported else "import.summary.bad"
        lines.append(t(key, bad=report.bad_rows))
    if report.ignored_headers:
        lines.append(t("import.summary.ignored", headers="、".join(report.ignored_headers)))
    return "\n".join(lines)


def problem_text(error: BaseException, t: Translator) -> str | None:
    """Why a file cannot be imported, in the app's language; None for an error that is not about the file."""
    if isinstance(error, RosterProblem):
        return t(error.key, name=error.name)
    if isinstance(error, LedgerError):
        return t("import.error.roster", detail=error.describe(t.language))
    if isinstance(error, OSError):
        return t("import.error.unreadable", name=Path(error.filename or "").name)
    return None
