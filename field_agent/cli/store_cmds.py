"""Store commands: ``init``, ``records put/get/list/delete``, ``status``, ``verify``, ``passwd``.

Scriptable: JSON in and out, passphrases from the environment, exit status ≠ 0 with one line on error.
Exit codes: 1 error, 3 wrong passphrase, 4 store in use, 5 store damaged. Never imports Textual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import orjson

from field_agent.cli.common import echo, echo_json, fail, language, read_passphrase, store_path
from field_agent.domain.envelope import view
from field_agent.domain.errors import DomainError
from field_agent.ledgers.device import allow_unmasked_records
from field_agent.ledgers.errors import LedgerError
from field_agent.ledgers.masking import mask_record
from field_agent.store import (
    HouseholdNotEmpty,
    Store,
    StoreCorrupted,
    StoreError,
    StoreLocked,
    WeakPassphrase,
    WrongPassphrase,
)

NEW_PASSPHRASE_ENV = "FIELD_AGENT_NEW_PASSPHRASE"
F = TypeVar("F", bound=Callable[..., Any])


def _fail_for(error: Exception) -> NoReturn:
    if isinstance(error, OSError):  # not expected past the store's own handling; still one line, never a traceback
        fail(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}")
    if isinstance(error, WeakPassphrase):
        fail(weak_passphrase_message(error))
    if isinstance(error, HouseholdNotEmpty):
        fail(refusal_message(error))
    code = 1
    if isinstance(error, WrongPassphrase):
        code = 3
    elif isinstance(error, StoreLocked):
        code = 4
    elif isinstance(error, StoreCorrupted):
        code = 5
    fail(str(error), code)


def weak_passphrase_message(error: WeakPassphrase) -> str:
    """Why the passphrase was refused, in the language of the command (Chinese unless --lang en)."""
    from field_agent.tui.errors import weak_passphrase_reason  # catalogs only: no Textual
    from field_agent.tui.i18n import Translator

    t = Translator(language(click.get_current_context()))
    return t("error.weak_passphrase", detail=weak_passphrase_reason(t, error))


def refusal_message(error: StoreError) -> str:
    """A store refusal a worker acts on (a household that still has residents), in the command's language."""
    from field_agent.tui.errors import describe_error  # catalogs only: no Textual
    from field_agent.tui.i18n import Translator

    return describe_error(Translator(language(click.get_current_context())), error)


@contextmanager
def open_store(ctx: click.Context) -> Iterator[Store]:
    """The store of ``--store``, unlocked with the passphrase; any store error becomes a one-line exit."""
    path = store_path(ctx)
    try:
        store = Store.open(path, read_passphrase())
    except StoreError as error:
        _fail_for(error)
    try:
        if store.open_report:
            echo(f"field-agent: note: {store.open_report['message']}", err=True)
        yield store
    except (StoreError, DomainError) as error:
        _fail_for(error)
    finally:
        store.close()


@click.command("init")
@click.option("--grid", default=None, help="Grid id this device works in (enrolment sets it otherwise).")
@click.option("--kdf-profile", type=click.Choice(["default", "strong", "test"]), default=None, hidden=True)
@click.pass_context
def init_command(ctx: click.Context, grid: str | None, kdf_profile: str | None) -> None:
    """Create a new encrypted store (asks for a strong passphrase twice)."""
    path = store_path(ctx)
    passphrase = read_passphrase("New passphrase", confirm=True)
    try:
        with Store.create(path, passphrase, grid=grid, kdf_profile=kdf_profile) as store:
            node = store.node_id
    except (StoreError, OSError) as error:
        _fail_for(error)
    echo(f"created encrypted store at {path} (device node {node})")


@click.group("records")
def records_group() -> None:
    """Read and write records as JSON."""


def _read_object(text: str | None) -> dict[str, Any]:
    raw = text if text is not None else sys.stdin.read()
    if not raw.strip():
        fail("no record given: pass --json '{...}' or a JSON object on stdin")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        fail(f"the record is not valid JSON ({error.msg} at character {error.pos})")
    if not isinstance(data, dict):
        fail("the record must be a JSON object ({...})")
    return data


@records_group.command("put")
@click.option("--kind", required=True, help="Record kind (household, resident, visit, …).")
@click.option("--json", "json_text", default=None, help="The record as a JSON object (default: read stdin).")
@click.pass_context
def records_put(ctx: click.Context, kind: str, json_text: str | None) -> None:
    """Create a record, or update only the given fields of the record whose "id" is given; print its id."""
    data = _read_object(json_text)
    record_id = data.pop("id", None)
    given_kind = data.pop("kind", kind)
    if given_kind != kind:
        fail(f"the JSON says kind {given_kind!r} but --kind is {kind!r}")
    grid = data.pop("grid", None)
    if record_id is not None and not isinstance(record_id, str):
        fail('"id" must be a string')
    with open_store(ctx) as store:
        envelope = store.put(kind, data, record_id=record_id, grid=grid)
    echo(envelope["id"])


UNMASKED_HELP = "Full ID numbers and phones (grid leader only; audited)."


@records_group.command("get")
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--envelope", is_flag=True, help="Print the full envelope (stamps, sets, conflicts).")
@click.option("--unmasked", is_flag=True, help=UNMASKED_HELP)
@click.pass_context
def records_get(ctx: click.Context, record_id: str, as_json: bool, envelope: bool, unmasked: bool) -> None:
    """Print one record (deleted records show "_deleted": true); ID numbers and phones masked.

    A record not on the tablet (an old one that retention let go) is looked up on the town server when online,
    and said to come from there."""
    source = "tablet"
    with open_store(ctx) as store:
        record = store.get(record_id)
        if record is None:
            record = _from_server(store, record_id)
            source = "server"
        if unmasked:
            _allow_unmasked(store, f"records get {record_id}", 1)
    data = record if envelope else view(record)
    if not unmasked:
        data = mask_record(data)
    if as_json or envelope:
        echo_json({**data, "_source": "server"} if source == "server" else data)
    else:
        if source == "server":
            echo("(from the town server: no longer kept on this tablet / 来自镇服务器，平板上已不保存)")
        for key, value in data.items():
            echo(f"{key}: {value if isinstance(value, str) else orjson.dumps(value).decode()}")


@records_group.command("list")
@click.option("--kind", default=None, help="Only records of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--include-deleted", is_flag=True, help="Include deleted records.")
@click.option("--unmasked", is_flag=True, help=UNMASKED_HELP)
@click.pass_context
def records_list(ctx: click.Context, kind: str | None, as_json: bool, include_deleted: bool, unmasked: bool) -> None:
    """List records as flat views; ID numbers and phones masked."""
    with open_store(ctx) as store:
        views = [view(envelope) for envelope in store.records(kind, include_deleted=include_deleted)]
        if unmasked:
            _allow_unmasked(store, f"records list {kind or 'all'}", len(views))
    if as_json:
        echo_json(views if unmasked else mask_record(views))
    else:
        for item in views:
            echo(f"{item['id']}  {item['kind']}")


def _from_server(store: Store, record_id: str) -> dict[str, Any]:
    """The server's copy of a record the tablet does not hold (fails with one line when offline or missing)."""
    import asyncio

    from field_agent.sync.errors import NotEnrolled, SyncError
    from field_agent.sync.lookup import lookup_record

    if not store.meta_get("token"):
        fail(f"no record with id {record_id}")
    try:
        record = asyncio.run(lookup_record(store, record_id))
    except NotEnrolled:
        fail(f"no record with id {record_id}")
    except SyncError as error:
        fail(f"no record with id {record_id} on this tablet, and the town server could not be asked: {error}")
    if record is None:
        fail(f"no record with id {record_id} on this tablet or on the town server")
    return record


def _allow_unmasked(store: Store, what: str, rows: int) -> None:
    try:
        allow_unmasked_records(store, what=what, rows=rows)
    except LedgerError as error:
        fail(str(error))


@records_group.command("delete")
@click.argument("record_id")
@click.pass_context
def records_delete(ctx: click.Context, record_id: str) -> None:
    """Delete a record (it syncs as a deletion)."""
    with open_store(ctx) as store:
        store.delete(record_id)  # a household with residents: HouseholdNotEmpty, told in the worker's language
    echo(record_id)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Counts per kind, pending changes, refused changes, open conflicts, last sync."""
    with open_store(ctx) as store:
        status = store.status()
    if as_json:
        echo_json(status)
        return
    echo(f"store: {status['path']} (grid {status['grid'] or '-'}, node {status['node_id']})")
    for kind, count in status["counts"].items():
        echo(f"  {kind}: {count}")
    echo(f"pending changes: {status['pending_changes']}  refused: {status['refused_changes']}")
    echo(f"open conflicts: {status['open_conflicts']}  last sync: {status['last_sync'] or 'never'}")
    days = status["retention_days"]
    window = "keeps everything" if days is None else f"{days} days"
    retired = status["retired"] or {}
    when = _local_time(retired.get("last_ms"))
    echo(
        f"records on this tablet: {status['records_held']}  retired (kept on the server): "
        f"{retired.get('total', 0)}{f', last {when}' if when else ''}  town window: {window}"
    )


def _local_time(ms: object) -> str:
    if not isinstance(ms, int) or not ms:
        return ""
    from datetime import UTC, datetime

    from field_agent.store.retention import town_zone

    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(town_zone(None)).isoformat(sep=" ", timespec="minutes")


@click.command("verify")
@click.option("--salvage", "salvage_to", type=click.Path(path_type=Path), default=None,
              help="Copy every intact record into a new store at this path.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify_command(ctx: click.Context, salvage_to: Path | None, as_json: bool) -> None:
    """Check every frame of the store; exit 5 if anything is damaged."""
    from field_agent.store.salvage import salvage, verify

    path = store_path(ctx)
    try:
        if salvage_to is not None:
            report = salvage(path, read_passphrase(), salvage_to)
        else:
            report = verify(path, read_passphrase())
    except (StoreError, OSError) as error:
        _fail_for(error)
    if as_json:
        echo_json(report.as_dict())
    else:
        state = "intact" if report.ok else "DAMAGED"
        echo(f"{path}: {state}; {report.frames} frames, {report.records} records, "
                   f"{report.pending_changes} unsent changes")  # fmt: skip
        for line in report.problems + report.warnings:
            echo(f"  {line}")
        if salvage_to is not None:
            echo(f"copied every intact record to {salvage_to} (open it with the same passphrase)")
            for line in report.repairs:
                echo(f"  {line}")
    if not report.ok and salvage_to is None:
        sys.exit(5)


@click.command("passwd")
@click.pass_context
def passwd_command(ctx: click.Context) -> None:
    """Change the passphrase: the data key is re-wrapped atomically, the data is not rewritten."""
    path = store_path(ctx)
    old = read_passphrase("Current passphrase")
    new = os.environ.get(NEW_PASSPHRASE_ENV)
    if not new:
        if not sys.stdin.isatty():
            fail(f"no new passphrase: set {NEW_PASSPHRASE_ENV} or run in a terminal")
        new = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    try:
        Store.change_passphrase(path, old, new)
    except (StoreError, OSError) as error:
        _fail_for(error)
    echo("passphrase changed")
