"""The ledgers on a device: export from the local store, import a roster into it (or preview the import), keep the
audit list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from field_agent.domain.enums import RECORD_KINDS
from field_agent.ledgers.audit import (
    AuditedStore,
    append_store_audit,
    check_unmasked_allowed,
    export_entry,
    records_entry,
)
from field_agent.ledgers.builder import Ledger, build_ledger
from field_agent.ledgers.campaign_ledger import campaign_ledger, is_campaign_ledger
from field_agent.ledgers.definitions import LedgerDefinition
from field_agent.ledgers.errors import RosterFileError
from field_agent.ledgers.index import CHINA
from field_agent.ledgers.roster import parse_roster
from field_agent.ledgers.roster_import import plan_import
from field_agent.ledgers.roster_report import ImportReport
from field_agent.ledgers.roster_words import RosterWords
from field_agent.ledgers.writers import export_path, export_suffix, write_ledger


class LedgerStore(AuditedStore, Protocol):
    """What the ledgers need of the local store (``field_agent.store.Store``)."""

    def records(self, kind: str) -> Iterable[Mapping[str, Any]]:
        """The live envelopes of one kind."""
        ...

    def put(
        self,
        kind: str,
        values: Mapping[str, Any],
        *,
        record_id: str | None = None,
        set_changes: Mapping[str, Mapping[str, bool]] | None = None,
    ) -> Mapping[str, Any]:
        """Create (no ``record_id``) or edit a record; its envelope."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Many writes kept together, or none of them."""
        ...


def china_today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def all_envelopes(store: LedgerStore) -> Iterator[Mapping[str, Any]]:
    for kind in RECORD_KINDS:
        yield from store.records(kind)


def _with_erasures(store: LedgerStore) -> Iterator[Mapping[str, Any]]:
    """The records and notes of what the retention rule erased here (``field_agent/ledgers/erasures.py``)."""
    from field_agent.ledgers.erasures import notes_from_retired, notes_from_store

    yield from all_envelopes(store)
    yield from notes_from_retired(store.meta_get("retired"), store.meta_get("grid"))  # an erasure note wins: last
    yield from notes_from_store(store.meta_get("erasures"), store.meta_get("grid"))


def export_from_store(
    store: LedgerStore,
    name: str,
    out: Path | None = None,
    *,
    fmt: str | None = None,
    unmasked: bool = False,
    today: dt.date | None = None,
    definitions: Mapping[str, LedgerDefinition] | None = None,
) -> Ledger:
    """Build a ledger (one of the definitions', or a campaign's: ``campaign:KEY``) from the store and write it to
    ``out`` (a file, or a folder for the ledger's default name: ``writers.export_path``); unmasked only for the
    leader, and every export is audited."""
    role = store.meta_get("role")
    check_unmasked_allowed(role, unmasked)
    suffix = export_suffix(out, fmt)
    day = today or china_today()
    town = getattr(store, "town_config", None)  # the town configuration in force (field_agent/store/town.py)
    if is_campaign_ledger(name):  # a campaign's ledger (campaign:KEY), from its definition
        ledger = campaign_ledger(all_envelopes(store), name, day, masked=not unmasked)
    else:
        ledger = build_ledger(
            name,
            _with_erasures(store),
            today=day,
            masked=not unmasked,
            definitions=definitions,
            rule=town(day).eligibility if town is not None else None,
        )
    entry = export_entry(ledger, actor=store.meta_get("worker"), role=role, fmt=suffix, at=dt.datetime.now(CHINA))
    # recorded before the file is written: an export that then fails leaves an entry, never an unrecorded file
    append_store_audit(store, entry)
    write_ledger(ledger, export_path(out, ledger, suffix))
    return ledger


def allow_unmasked_records(store: LedgerStore, *, what: str, rows: int) -> None:
    """Let the command line print records with full ID numbers and phones: the grid leader only, and audited
    (the entry is saved before anything is printed)."""
    role = store.meta_get("role")
    check_unmasked_allowed(role, True, action="print")
    entry = records_entry(what=what, rows=rows, actor=store.meta_get("worker"), role=role, at=dt.datetime.now(CHINA))
    append_store_audit(store, entry)


def preview_import(
    store: LedgerStore, path: Path, *, sheet: str | None = None, words: RosterWords | Path | None = None
) -> ImportReport:
    """What importing the roster would do, written nowhere: every problem, and the plan of its good rows
    (``report.summary_text(language)`` says it; ``report.imported`` is False)."""
    grid = _grid(store)
    report = ImportReport(parsed=parse_roster(path, sheet=sheet, words=words))
    report.plan = plan_import(report.parsed.rows, all_envelopes(store), grid=grid)
    return report


def import_into_store(
    store: LedgerStore,
    path: Path,
    *,
    skip_invalid: bool = False,
    sheet: str | None = None,
    words: RosterWords | Path | None = None,
) -> ImportReport:
    """Import a roster into the store's grid in one durable batch; nothing at all when a row is bad, unless
    ``skip_invalid`` (then the good rows go in and the bad ones are reported). ``sheet`` reads only that sheet;
    ``words`` is the words table or a town's words file."""
    grid = _grid(store)
    report = ImportReport(parsed=parse_roster(path, sheet=sheet, words=words))
    if report.parsed.errors and not skip_invalid:
        return report
    report.plan = plan_import(report.parsed.rows, all_envelopes(store), grid=grid)
    with store.batch():
        for write in report.plan.writes:
            store.put(write.kind, write.values, record_id=write.record_id, set_changes=write.set_changes or None)
            # the store has its own copy now; what the report needs of a write is its kind, id and line
            write.values, write.set_changes = {}, {}
    report.imported = True
    report.skipped = list(report.parsed.errors)
    return report


def _grid(store: LedgerStore) -> str:
    grid = store.meta_get("grid")
    if not grid:
        raise RosterFileError("import.no_grid")
    return str(grid)
