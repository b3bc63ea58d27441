"""The town office's side of the server: the overview page and JSON, ledger exports, and the office credential.

Mount ``router`` on the app (it reads ``request.app.state.db``); register ``export_command`` and ``office_group``
on the ``field-server`` click group.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qs, quote

import click
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from field_agent.domain.i18n import LANGUAGES
from field_agent.domain.sorting import natural_key
from field_agent.ledgers import messages
from field_agent.ledgers.audit import append_audit_line, export_entry, read_audit_lines
from field_agent.ledgers.builder import Ledger, build_ledger, grid_file_scope, grid_label
from field_agent.ledgers.definitions import ledger_list, ledger_list_line, load_definitions
from field_agent.ledgers.errors import LedgerError
from field_agent.ledgers.overview import grid_overview, town_totals
from server_stub.campaigns import campaign_rows
from server_stub.db.base import Database
from server_stub.town_config import in_force
from server_stub.town_time import town_now, town_today, town_zone

TOKEN_META_KEY = "office_token_sha256"
COOKIE = "field_office"
AUDIT_FILE = "audit.jsonl"

_templates = Environment(
    loader=PackageLoader("server_stub", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)


class OfficeError(LedgerError):
    """An office command that cannot run as asked (unknown grid or town, no credential set)."""


# --- the office credential ------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_office_token(db: Database) -> str:
    """Make a new office token, store only its hash (replacing any earlier one) and return it, to show once."""
    token = "office_" + secrets.token_urlsafe(32)
    with db.transaction() as tx:
        tx.set_meta(TOKEN_META_KEY, _hash(token))
    return token


def office_token_set(db: Database) -> bool:
    with db.transaction() as tx:
        return bool(tx.get_meta(TOKEN_META_KEY))


def check_office_token(db: Database, presented: str | None) -> bool:
    """Whether a presented token is the office's (compared by hash, in constant time)."""
    if not presented:
        return False
    with db.transaction() as tx:
        stored = tx.get_meta(TOKEN_META_KEY)
    return stored is not None and hmac.compare_digest(stored, _hash(presented))


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


# --- the overview ---------------------------------------------------------------------------------------------


def china_today() -> dt.date:
    """Today in the town's time zone (``server_stub/town_time.py``; China's unless ``$FIELD_SERVER_TZ`` says)."""
    return town_today()


def _by_name(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(natural_key(row[key] or "") for key in ("town", "community", "name", "grid"))


# how the overview orders its grids; the first is the default: where most people were left out, first
SORTS: dict[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]] = {
    "left_out": lambda row: (-row["left_out"], *_by_name(row)),
    "name": _by_name,
}


def page_header(today: dt.date) -> dict[str, Any]:
    """What every overview answer starts with: the day, when it was made, the town's time zone."""
    zone = town_zone()
    return {
        "today": today.isoformat(),
        "generated_at": town_now().isoformat(timespec="seconds"),
        "time_zone": str(zone),
    }


def town_overview(
    db: Database, *, town: str | None = None, today: dt.date | None = None, sort: str = "left_out"
) -> dict[str, Any]:
    """Every live grid's overview (of one town, or all), with totals; grids ordered by ``sort`` (``SORTS``: by
    default those that left the most residents out first)."""
    if sort not in SORTS:
        raise OfficeError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    day = today or china_today()
    zone = town_zone()
    devices = db.list_devices()
    every_grid = [g for g in db.list_grids() if not g.get("deleted")]
    grids = [g for g in every_grid if town is None or g.get("town") == town]
    rule = in_force(db, day).eligibility  # the town configuration's home-sampling rule on that day
    rows = [grid_overview(g, _with_erasures(db, g["id"]), devices, day, zone=zone, rule=rule) for g in grids]
    rows.sort(key=SORTS[sort])
    return {
        **page_header(day),
        "town": town,
        "sort": sort,
        "towns": sorted({str(g["town"]) for g in every_grid if g.get("town")}),
        "grids": rows,
        "totals": town_totals(rows),
    }


def grid_detail(db: Database, grid_id: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """One live grid opened: its overview row with who was left out (names, masked ID numbers, addresses, why)."""
    found = [g for g in db.list_grids() if g["id"] == grid_id and not g.get("deleted")]
    if not found:
        raise OfficeError(f"no grid {grid_id!r}: see 'field-server grid list'")
    day = today or china_today()
    rule = in_force(db, day).eligibility
    row = grid_overview(
        found[0], _with_erasures(db, grid_id), db.list_devices(), day, zone=town_zone(), detail=True, rule=rule
    )
    return {**page_header(day), "grid": row}


router = APIRouter(tags=["office"])


def unauthorised_json(db: Database) -> JSONResponse:
    configured = office_token_set(db)
    message = (
        "this needs the town office's token: send 'Authorization: Bearer <token>'"
        if configured
        else "no office token is set on this server: run 'field-server office token' first"
    )
    return JSONResponse(
        {"error": {"code": "office_token_invalid" if configured else "office_token_unset", "message": message}},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="office"'},
    )


def login_page(request: Request, *, error: str | None = None, status: int = 401) -> HTMLResponse:
    html = _templates.get_template("office_login.html").render(
        error=error, configured=office_token_set(request.app.state.db)
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _refused_json(error: OfficeError, status: int) -> JSONResponse:
    code = "not_found" if status == 404 else "invalid_request"
    return JSONResponse(
        {"error": {"code": code, "message": str(error)}}, status_code=status, headers={"Cache-Control": "no-store"}
    )


@router.get("/v1/office/overview")
def overview_json(request: Request, town: str | None = None, sort: str = "left_out") -> Response:
    """Per grid: mode, households checked this round, special-group coverage and left out, follow-ups today, open
    conflicts, devices' last sync (and why a revoked one was); grids with the most left out first, or
    ``sort=name``. Times carry the town's offset (office token required)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return unauthorised_json(db)
    try:
        data = town_overview(db, town=town, sort=sort)
    except OfficeError as error:
        return _refused_json(error, 422)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/v1/office/grids/{grid_id}")
def grid_json(request: Request, grid_id: str) -> Response:
    """One grid opened: its overview numbers, devices, and the residents its round left out (name, masked ID
    number, building / unit / room, why they are sampled at home) (office token required)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return unauthorised_json(db)
    try:
        data = grid_detail(db, grid_id)
    except OfficeError as error:
        return _refused_json(error, 404)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


def render_page(template: str, status: int = 200, **data: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**data, ledgers=load_definitions())
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/office", response_class=HTMLResponse, include_in_schema=False)
def overview_page(request: Request, town: str | None = None, sort: str = "left_out") -> Response:
    """The town office's overview page (login form until the office token is given)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return login_page(request)
    overview = town_overview(db, town=town or None, sort=sort if sort in SORTS else "left_out")
    campaigns = campaign_rows(db, china_today(), town=town or None)
    return render_page("office.html", **overview, campaigns=campaigns)


@router.get("/office/grids/{grid_id}", response_class=HTMLResponse, include_in_schema=False)
def grid_page(request: Request, grid_id: str) -> Response:
    """One grid opened on the office page: who was left out, its devices, its ledgers."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return login_page(request)
    try:
        return render_page("office_grid.html", **grid_detail(db, grid_id))
    except OfficeError:
        return render_page("office_grid.html", status=404, grid=None, **page_header(china_today()))


@router.post("/office/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check the token typed into the login form; on success keep it in an HttpOnly cookie."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    if not await run_in_threadpool(check_office_token, request.app.state.db, token):
        return await run_in_threadpool(login_page, request, error="令牌不正确 / wrong token")
    response = RedirectResponse("/office", status_code=303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", max_age=12 * 3600
    )
    return response


@router.post("/office/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/office", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/office/ledgers/{name}.xlsx", include_in_schema=False)
def download_ledger(request: Request, name: str, grid: str | None = None, town: str | None = None) -> Response:
    """A ledger as .xlsx, ID numbers and phones masked (full data only through the audited admin command)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return unauthorised_json(db)
    try:
        envelopes, scope, short = _scope_records(db, grid=grid, town=town, whole=name.startswith("campaign:"))
        day = china_today()
        ledger = _ledger(db, name, envelopes, day, masked=True, scope=scope, short=short)
    except LedgerError as error:
        return JSONResponse({"error": {"code": "ledger_refused", "message": str(error)}}, status_code=404)
    audit_dir = getattr(request.app.state, "audit_dir", None)
    _audit(ledger, fmt="xlsx", actor="office-web", audit_dir=audit_dir)
    return _xlsx_response(ledger)


def _xlsx_response(ledger: Ledger) -> Response:
    # openpyxl is loaded by what writes a workbook, not at start
    from field_agent.ledgers.writers import ascii_file_name, default_file_name, xlsx_bytes

    body = xlsx_bytes(ledger)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": attachment(default_file_name(ledger), ascii_file_name(ledger)),
            "Cache-Control": "no-store",
        },
    )


def attachment(filename: str, fallback: str) -> str:
    """A Content-Disposition naming the file in UTF-8 (RFC 6266 / RFC 5987 ``filename*``) with an ASCII
    ``filename`` for clients that cannot read it."""
    plain = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in fallback)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- exports and their audit ----------------------------------------------------------------------------------


def _scope_records(
    db: Database, *, grid: str | None, town: str | None, whole: bool = False
) -> tuple[Iterator[Mapping[str, Any]], str, str]:
    """The records of one grid or one town (or, with ``whole`` and neither named, every grid: a campaign's ledger
    covers every grid it reached), what the ledger's title calls them and what its file name does."""
    grids = [g for g in db.list_grids() if not g.get("deleted")]
    if whole and grid is None and town is None:
        records = itertools.chain.from_iterable(_with_erasures(db, g["id"]) for g in grids)
        return records, f"全部网格（{len(grids)}个）", "all-grids"
    if (grid is None) == (town is None):
        raise OfficeError("name exactly one of --grid G or --town T", code="scope_one_of")
    if grid is not None:
        found = [g for g in grids if g["id"] == grid]
        if not found:
            raise OfficeError(f"no grid {grid!r}: see 'field-server grid list'", code="no_grid", grid=grid)
        g = found[0]
        scope = " ".join(p for p in (str(g.get("town") or ""), grid_label(g, " ")) if p)
        return _with_erasures(db, grid), scope, grid_file_scope(g)
    chosen = [g for g in grids if g.get("town") == town]
    if not chosen:
        towns = ", ".join(sorted({str(g.get("town")) for g in grids if g.get("town")})) or "none yet"
        raise OfficeError(f"no grids in town {town!r}; towns: {towns}", code="no_town", town=town, towns=towns)
    records = itertools.chain.from_iterable(_with_erasures(db, g["id"]) for g in chosen)
    return records, f"{town}（{len(chosen)}个网格）", str(town)


def _with_erasures(db: Database, grid: str) -> Iterator[Mapping[str, Any]]:
    """The grid's records and notes of what the retention rule erased (``field_agent/ledgers/erasures.py``)."""
    from field_agent.ledgers.erasures import notes_from_markers

    yield from db.iter_records(grid)
    yield from notes_from_markers(db.purged_markers(grid), town_zone())


def _audit_path(audit_dir: Path | None) -> Path:
    from server_stub.config import data_dir

    return (Path(audit_dir) if audit_dir is not None else data_dir()) / AUDIT_FILE


def _audit(ledger: Ledger, *, fmt: str, actor: str, audit_dir: Path | None) -> None:
    """Append one entry (no personal data) to the server's audit log, on disk before this returns."""
    entry = export_entry(ledger, actor=actor, role="office", fmt=fmt, at=town_now())
    append_audit_line(_audit_path(audit_dir), entry)


def read_audit(audit_dir: Path | None = None) -> list[dict[str, Any]]:
    """The server's export audit log, oldest first."""
    return read_audit_lines(_audit_path(audit_dir))


def _ledger(
    db: Database,
    name: str,
    envelopes: Iterable[Mapping[str, Any]],
    day: dt.date,
    *,
    masked: bool,
    scope: str,
    short: str,
) -> Ledger:
    """One of the town's ledgers, or a campaign's (``campaign:KEY``, built from its definition)."""
    from field_agent.ledgers.campaign_ledger import campaign_ledger, is_campaign_ledger

    if is_campaign_ledger(name):
        return campaign_ledger(envelopes, name, day, masked, scope=scope, short_scope=short)
    rule = in_force(db, day).eligibility
    return build_ledger(name, envelopes, today=day, masked=masked, scope=scope, short_scope=short, rule=rule)


def export_ledger(
    db: Database,
    name: str,
    out: Path | None = None,
    *,
    fmt: str | None = None,
    grid: str | None = None,
    town: str | None = None,
    unmasked: bool = False,
    today: dt.date | None = None,
    audit_dir: Path | None = None,
) -> tuple[Ledger, Path]:
    """Write one grid's or one town's ledger to .xlsx/.csv: to ``out``, or under its default name
    (``<scope>-<ledger>-<date>.xlsx``) in the folder ``out`` or the current one. Every export (unmasked ones above
    all) is audited. Returns the ledger and the file written."""
    from field_agent.ledgers.writers import export_path, export_suffix, write_ledger

    suffix = export_suffix(out, fmt)
    envelopes, scope, short = _scope_records(db, grid=grid, town=town, whole=name.startswith("campaign:"))
    day = today or china_today()
    ledger = _ledger(db, name, envelopes, day, masked=not unmasked, scope=scope, short=short)
    # audit first: an export that fails after this leaves a harmless entry, never an unrecorded file
    _audit(ledger, fmt=suffix, actor=f"field-server export ({os.environ.get('USER', 'admin')})", audit_dir=audit_dir)
    path = export_path(out, ledger, suffix)
    write_ledger(ledger, path)
    return ledger, path


# --- click commands for field-server ---------------------------------------------------------------------------


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _db_options(command: _Command) -> _Command:
    command = click.option(
        "--db",
        "db_url",
        envvar="FIELD_SERVER_DB",
        default=None,
        help="sqlite:///path or postgresql://... (default: server.db in the data dir)",
    )(command)
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)


def _open_db(db_url: str | None) -> Database:
    from server_stub.config import default_db_url
    from server_stub.db import open_database

    return open_database(db_url or default_db_url())


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


@click.command("export")
@_db_options
@click.argument("ledger", required=False)
@click.option("--grid", "grid_id", default=None, help="One grid's ledger.")
@click.option("--town", default=None, help="A whole town's ledger (all its grids).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output file (.xlsx or .csv), or a folder for the default name <scope>-<ledger>-<date>.xlsx "
    "(the current folder when not given).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None, help="File type when --out is a folder."
)
@click.option("--unmasked", is_flag=True, help="Full ID numbers and phones (recorded in the audit log).")
@click.option("--list", "list_only", is_flag=True, help="Name the ledgers and exit.")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    envvar="FIELD_SERVER_LANG",
    default=None,
    help="Language of the messages (default Chinese; also $FIELD_SERVER_LANG).",
)
def export_command(
    db_url: str | None,
    as_json: bool,
    ledger: str | None,
    grid_id: str | None,
    town: str | None,
    out: Path | None,
    fmt: str | None,
    unmasked: bool,
    list_only: bool,
    lang: str | None,
) -> None:
    """Export one of the six ledgers for a grid or a town to .xlsx or .csv."""
    definitions = load_definitions()
    if list_only:
        items = ledger_list(definitions)
        if as_json:
            _echo_json(items)
        else:
            for item in items:
                click.echo(ledger_list_line(item))
        return
    if not ledger:
        _refuse(messages.text("name_a_ledger", lang, known=", ".join(definitions)))
    try:
        with _open_db(db_url) as db:
            built, path = export_ledger(db, ledger, out, fmt=fmt, grid=grid_id, town=town, unmasked=unmasked)
    except LedgerError as error:
        _refuse(error.describe(messages.language(lang)))
    if as_json:
        _echo_json(
            {
                "ledger": built.name,
                "rows": len(built.rows),
                "out": str(path),
                "masked": built.masked,
                "scope": built.scope,
            }
        )
    else:
        click.echo(messages.exported_message(built, path, lang, with_scope=True))


def _refuse(message: str) -> NoReturn:
    """One ``field-server: ...`` line on stderr and exit 1, as ``server_stub.cli`` ends every refused command."""
    click.echo(f"field-server: {' '.join(message.split())}", err=True)
    sys.exit(1)


@click.group("office")
def office_group() -> None:
    """The town office's login for the overview page."""


@office_group.command("token")
@_db_options
def office_token_command(db_url: str | None, as_json: bool) -> None:
    """Issue a new office token (shown once; the old one stops working)."""
    with _open_db(db_url) as db:
        token = issue_office_token(db)
    if as_json:
        _echo_json({"token": token})
    else:
        click.echo(token)
        click.echo("Give this token to the town office; it is shown only now (the server keeps its hash).", err=True)


@office_group.command("audit")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def office_audit_command(as_json: bool) -> None:
    """List ledger exports recorded in the audit log."""
    entries = read_audit()
    if as_json:
        _echo_json({"audit": entries})
        return
    for e in entries:
        if e.get("action") == "purge":  # server_stub/retention.py: counts of what the retention rule erased
            click.echo(f"{e['at']}  purge  erased {e['erased']}  held {e['held_open_conflicts']}  {e['actor']}")
            continue
        flag = "UNMASKED" if e.get("unmasked") else "masked"
        click.echo(f"{e['at']}  {e['ledger']}  {e['scope']}  {e['rows']} rows  {e['format']}  {flag}  {e['actor']}")
