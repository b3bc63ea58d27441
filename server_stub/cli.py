"""``field-server``: run the town server and administer it (grids, roster, enrolment codes, devices, demo town)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import orjson

from field_agent.domain.membership import MAX_TEMPORARY_DAYS
from field_agent.domain.printable import inert
from field_agent.domain.rights import TEMPORARY_ROLES
from field_agent.server_extra import INSTALL_SERVER, missing_server_packages
from server_stub import __version__
from server_stub.config import (
    DATA_DIR_ENV,
    DB_ENV,
    DEFAULT_PORT,
    Settings,
    data_dir,
    data_dir_override,
    default_db_url,
    safe_db_url,
)
from server_stub.errors import ServerError
from server_stub.town_time import iso_ms, shown_ms, town_zone

if TYPE_CHECKING:  # the server's packages are imported by the commands that need them (they may be missing)
    from server_stub.db.base import Database

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> NoReturn:
    """Exit 1 with a one-line message on stderr."""
    click.echo(inert(f"field-server: {' '.join(str(message).split())}"), err=True)
    sys.exit(1)


def say(text: str) -> None:
    """One line of output for a person at a terminal, control characters shown as escapes (``inert``): grid,
    worker and device names come from records and tablets, and must never move the cursor or retitle the window."""
    click.echo(inert(text))


def echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


DEVICE_TIMES = ("created", "last_seen", "last_sync", "revoked")


def common_options(command: F) -> F:
    """``--db URL`` and ``--json`` on every command."""
    command = click.option(
        "--db",
        "db_url",
        envvar=DB_ENV,
        default=None,
        help="sqlite:///path or postgresql://... (default: server.db in the data dir)",
    )(command)
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)


def server_dir() -> Path:
    """The data directory: --data-dir, else $FIELD_SERVER_DATA_DIR, else the user data dir."""
    chosen = click.get_current_context().find_root().obj.get("data_dir")
    return Path(chosen) if chosen else data_dir()


def open_db(db_url: str | None) -> Database:
    """The database, with the town's time zone taken from the configuration in force (``town_config``)."""
    from field_agent.domain.errors import ConfigError
    from server_stub.db import open_database
    from server_stub.town_config import in_force

    db = open_database(db_url or default_db_url(server_dir()))
    with contextlib.suppress(ConfigError):  # a stored list this code cannot read: commands run in $FIELD_SERVER_TZ
        in_force(db)
    return db


# commands owned by other modules, loaded only when used (they pull in the ledger writers)
LAZY_COMMANDS = {
    "backup": "server_stub.backup:backup_command",
    "campaign": "server_stub.campaign_cmds:campaign_group",
    "export": "server_stub.office:export_command",
    "key": "server_stub.backup:key_group",
    "office": "server_stub.office:office_group",
}


class ServerGroup(click.Group):
    """Turns the server's own errors into one line on stderr and exit status 1; loads some commands lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            import importlib

            module, attribute = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        from field_agent.domain.errors import DomainError
        from field_agent.ledgers.errors import LedgerError

        try:
            return super().invoke(ctx)
        except (ServerError, DomainError, LedgerError, OSError) as error:
            fail(str(error))


@click.group(cls=ServerGroup)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar=DATA_DIR_ENV,
    default=None,
    help="Where the database, certificate and key live (default: the user data dir).",
)
@click.version_option(__version__, prog_name="field-server")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """Field Agent town server: devices enrol, push and pull; the office creates grids and issues codes."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    town_zone()  # a bad $FIELD_SERVER_TZ is one line before any command runs (server_stub/town_time.py)
    if data_dir is not None:
        token = data_dir_override.set(data_dir)
        ctx.call_on_close(lambda: data_dir_override.reset(token))


@cli.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--tls", is_flag=True, help="Serve HTTPS with a self-signed certificate made on first run.")
@click.option(
    "--access-log", is_flag=True, help="Print one line per request on stderr: time, method, route, status (no tokens)."
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    metavar="IPS",
    help="Comma-separated addresses of the reverse proxy whose X-Forwarded-For/-Proto headers are trusted "
    "[default: none; the client address is the connection's]",
)
@click.option(
    "--enroll-limit",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Enrolment attempts allowed per client address per minute.",
)
@click.option(
    "--push-threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads applying pushes (the database writes one at a time; more threads form larger commits).",
)
@click.option(
    "--max-future",
    default="7d",
    show_default=True,
    help="Refuse stamps further than this ahead of the server clock (e.g. 12h, 7d).",
)
@click.option(
    "--keep-answers",
    default="30d",
    show_default=True,
    help="How long a push's answer is kept for a tablet that retries the same batch (e.g. 7d, 30d).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 32),
    help="Worker processes serving requests; they share the database  [default: one per CPU core, at most 4]",
)
def serve(
    db_url: str | None,
    as_json: bool,
    host: str,
    port: int,
    tls: bool,
    access_log: bool,
    forwarded_allow_ips: str | None,
    enroll_limit: int,
    push_threads: int,
    max_future: str,
    keep_answers: str,
    workers: int | None,
) -> None:
    """Run the server until interrupted."""
    import uvicorn

    from server_stub.app import create_app
    from server_stub.config import Settings, default_workers
    from server_stub.enrolment import parse_ttl
    from server_stub.tls import ensure_certificate

    settings = Settings(
        enroll_attempts=enroll_limit,
        push_threads=push_threads,
        max_future_ms=parse_ttl(max_future, "--max-future"),
        keep_answers_ms=parse_ttl(keep_answers, "--keep-answers"),
        access_log=access_log,
    )
    proxies = _proxy_list(forwarded_allow_ips)
    workers = workers or default_workers()
    url = db_url or default_db_url(server_dir())
    db = open_db(url)  # also with --workers: creates the schema and fails early, in one line, on a bad URL
    ssl: dict[str, str] = {}
    info: dict[str, Any] = {
        "url": f"{'https' if tls else 'http'}://{host}:{port}",
        "db": safe_db_url(db.url),
        "workers": workers,
        "time_zone": str(town_zone()),
    }
    if tls:
        certificate = ensure_certificate(server_dir())
        ssl = {"ssl_certfile": str(certificate.cert_path), "ssl_keyfile": str(certificate.key_path)}
        info.update(fingerprint=certificate.fingerprint, certificate=str(certificate.cert_path))
    if as_json:
        click.echo(orjson.dumps(info, option=orjson.OPT_SORT_KEYS).decode())  # one line: scripts read it first
    else:
        plural = "es" if workers > 1 else ""
        click.echo(
            f"Serving {info['url']} (database {info['db']}, {workers} worker process{plural}, "
            f"times in {info['time_zone']})"
        )
        if tls:
            click.echo(f"Certificate SHA-256 fingerprint: {info['fingerprint']}")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # uvicorn's own lines carry query strings and addresses: server_stub/access_log.py
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: trust only a proxy the operator names
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "timeout_keep_alive": 75,
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
        **ssl,
    }
    if workers == 1:
        try:
            uvicorn.run(create_app(db, settings), **options)
        finally:
            db.close()
        return
    _serve_workers(db, url, settings, workers, options)


def _serve_workers(db: Database, url: str, settings: Settings, workers: int, options: dict[str, Any]) -> None:
    """Run ``workers`` processes under uvicorn's supervisor; each opens the database itself (server_stub.workers).

    The supervisor stops every worker on SIGTERM/SIGINT and replaces them one by one on SIGHUP.
    """
    import os

    import uvicorn

    from server_stub.workers import WORKER_CONFIG_ENV, worker_config

    db.close()  # the parent serves nothing itself; each worker opens its own connections
    os.environ[WORKER_CONFIG_ENV] = worker_config(url, settings)
    # uvicorn replaces a worker only once its replacement answers (SIGHUP), and gives up the whole restart when
    # that takes longer than this; its default (5 s) is shorter than a spawned worker's start on a busy 2-core
    # server, where a SIGHUP would then change nothing. The same limit marks a worker as hung when it stops
    # answering the supervisor's pings. 30 s was once too short under the full test suite's load (a spawned
    # worker imports FastAPI and the app traced by coverage while both cores are busy): a minute costs nothing,
    # the old workers serve meanwhile.
    options = {**options, "timeout_worker_healthcheck": 60}
    try:
        uvicorn.run("server_stub.workers:worker_app", factory=True, workers=workers, **options)
    finally:
        os.environ.pop(WORKER_CONFIG_ENV, None)


def _proxy_list(text: str | None) -> list[str]:
    """The addresses (or networks) given to ``--forwarded-allow-ips``; a bad one is a one-line error."""
    import ipaddress

    from server_stub.errors import RequestInvalid

    if text is None:
        return []
    proxies = [part.strip() for part in text.split(",") if part.strip()]
    if not proxies:
        raise RequestInvalid("--forwarded-allow-ips needs at least one proxy address")
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy)
        except ValueError:
            raise RequestInvalid(
                f"--forwarded-allow-ips: {proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return proxies


@cli.group()
def grid() -> None:
    """Create and list grids."""


@grid.command("create")
@common_options
@click.option("--town", required=True, help="Town or street (镇街).")
@click.option("--name", required=True, help="The grid's name.")
@click.option("--community", default=None, help="Village or community (default: the grid's name).")
@click.option("--leader", default=None, help="The grid leader's name.")
def grid_create(
    db_url: str | None, as_json: bool, town: str, name: str, community: str | None, leader: str | None
) -> None:
    """Create a grid; prints its id."""
    from server_stub.records import create_grid

    with open_db(db_url) as db:
        grid_id = create_grid(db, town=town, name=name, community=community, leader=leader)
    if as_json:
        echo_json({"grid": grid_id, "town": town, "name": name, "community": community or name})
    else:
        click.echo(grid_id)


@grid.command("list")
@common_options
def grid_list(db_url: str | None, as_json: bool) -> None:
    """List grids with their record and device counts."""
    with open_db(db_url) as db:
        grids = db.list_grids()
    if as_json:
        echo_json({"grids": grids})
        return
    for row in grids:  # names come from records a tablet may have written: shown, never obeyed
        say(
            f"{row['id']}  {row['town']} {row['community']} {row['name']}  mode={row['mode']}  "
            f"records={row['records']} devices={row['devices']}"
        )


@cli.group()
def roster() -> None:
    """Import residents and households from a roster file."""


@roster.command("import")
@common_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--grid", "grid_id", required=True, help="The grid the roster belongs to.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows even when some rows are bad.")
@click.option(
    "--sheet", default=None, help="Read only this sheet of an .xlsx (default: every sheet with a roster header)."
)
@click.option(
    "--words",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The town's words file (JSON), merged over the shipped words table (docs/LEDGERS.md).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh_CN", "en"]),
    envvar="FIELD_AGENT_LANG",
    default="zh_CN",
    show_default=True,
    help="Language of the report (also FIELD_AGENT_LANG).",
)
def roster_import(
    db_url: str | None,
    as_json: bool,
    file: Path,
    grid_id: str,
    skip_invalid: bool,
    sheet: str | None,
    words: Path | None,
    lang: str,
) -> None:
    """Import a .xlsx/.csv roster; nothing is imported when a row is bad (unless --skip-invalid)."""
    from field_agent.domain.printable import inert
    from field_agent.ledgers.errors import RosterFileError
    from field_agent.ledgers.roster_messages import say
    from server_stub.roster import import_roster, report_dict

    with open_db(db_url) as db:
        try:
            report = import_roster(
                db, file, grid_id, skip_invalid=skip_invalid, sheet=sheet, words=words, language=lang
            )
        except RosterFileError as error:
            fail(error.describe(lang))
    if as_json:
        echo_json(report_dict(report, grid_id, lang))
    else:
        for line in report.error_lines(lang):
            click.echo(inert(line), err=True)
        for line in report.info_lines(lang):
            click.echo(inert(line))
        if report.imported:
            click.echo(report.summary_text(lang))
    if not report.imported:
        fail(report.summary_text(lang) + say("summary.refused_hint", lang))


@cli.command("enroll-code")
@common_options
@click.option("--grid", "grid_id", required=True, help="The grid the tablet will sync.")
@click.option("--worker", "--name", "worker", required=True, help="The worker's (or temporary member's) name.")
@click.option("--role", type=click.Choice(["leader", "worker", *TEMPORARY_ROLES]), required=True)
@click.option(
    "--until",
    default=None,
    help=f"A temporary member's last day (YYYY-MM-DD, town time; at most {MAX_TEMPORARY_DAYS} days ahead).",
)
@click.option("--group", default=None, help="A temporary member's group (one of the eight groups' keys).")
@click.option("--ttl", default="24h", show_default=True, help="How long the code stays valid (30m, 24h, 7d).")
@click.option(
    "--tls/--no-tls",
    "tls",
    default=None,
    help="Append the certificate fingerprint (default: when the server has a certificate).",
)
def enroll_code(
    db_url: str | None,
    as_json: bool,
    grid_id: str,
    worker: str,
    role: str,
    until: str | None,
    group: str | None,
    ttl: str,
    tls: bool | None,
) -> None:
    """Issue a one-time enrolment code (printed as SECRET, or SECRET:FINGERPRINT with TLS).

    Temporary members (cadre 下沉干部, volunteer 志愿者, sampling_team 流动采样队) need --until, their last day:
    their device stops working after it, and they are placed on the grid record's members."""
    from server_stub.enrolment import issue_code, parse_ttl
    from server_stub.tls import ensure_certificate, existing_certificate

    ttl_ms = parse_ttl(ttl)
    with open_db(db_url) as db:
        issued = issue_code(db, grid_id, worker, role, ttl_ms, until=until, group=group)
    certificate = (
        ensure_certificate(server_dir()) if tls else (existing_certificate(server_dir()) if tls is None else None)
    )
    code = issued["code"] + (f":{certificate.fingerprint}" if certificate else "")
    if as_json:
        echo_json(
            {
                **issued,
                "code": code,
                "expires": iso_ms(issued["expires_ms"]),
                "fingerprint": certificate.fingerprint if certificate else None,
            }
        )
    else:
        click.echo(code)


@cli.group()
def device() -> None:
    """List, extend and revoke enrolled devices."""


@device.command("list")
@common_options
def device_list(db_url: str | None, as_json: bool) -> None:
    """Every enrolled device, revoked and ended ones included."""
    from field_agent.domain.membership import has_ended
    from server_stub.town_time import town_today

    with open_db(db_url) as db:
        devices = db.list_devices()
    if as_json:  # each time as stored (ms) and in the town's time zone (``last_sync_at``: ISO 8601 with offset)
        echo_json({"devices": [{**row, **{f"{key}_at": iso_ms(row[key]) for key in DEVICE_TIMES}} for row in devices]})
        return
    today = town_today()
    for row in devices:
        reason = f" ({row['revoked_reason']})" if row["revoked_reason"] else ""
        status = f"revoked {shown_ms(row['revoked'])}{reason}" if row["revoked"] else "active"
        if row["ends_on"] is not None and not row["revoked"]:  # a temporary member's last day, town time
            status = f"ended {row['ends_on']}" if has_ended(row["ends_on"], today) else f"active until {row['ends_on']}"
        say(  # the device's name is the tablet's to choose, the reason the office's: shown, never obeyed
            f"{row['id']}  grid={row['grid']}  {row['worker']} ({row['role']})  {row['name']}  "
            f"last sync {shown_ms(row['last_sync'])}  {status}"
        )


@device.command("extend")
@common_options
@click.argument("device_id")
@click.option("--until", required=True, help="The temporary member's new last day (YYYY-MM-DD, town time).")
def device_extend(db_url: str | None, as_json: bool, device_id: str, until: str) -> None:
    """Move a temporary member's last day (also after it has passed: the device works again)."""
    from server_stub.temporary import extend_device

    with open_db(db_url) as db:
        extended = extend_device(db, device_id, until)
    if as_json:
        echo_json({"device": device_id, "until": extended["ends_on"]})
    else:
        click.echo(f"{device_id} active until {extended['ends_on']}")


@device.command("revoke")
@common_options
@click.argument("device_id")
@click.option("--reason", default="revoked by the town office", show_default=True)
def device_revoke(db_url: str | None, as_json: bool, device_id: str, reason: str) -> None:
    """Revoke a device: its token stops working at once."""
    from server_stub.enrolment import revoke_device

    with open_db(db_url) as db:
        revoke_device(db, device_id, reason)
    if as_json:
        echo_json({"device": device_id, "revoked": True, "reason": reason})
    else:
        click.echo(f"revoked {device_id}")


@cli.command("seed-demo")
@common_options
@click.option("--grids", default=1, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--households", default=300, show_default=True, type=click.IntRange(1, 100_000), help="Households per grid."
)
@click.option("--seed", default=1, show_default=True, type=int)
def seed_demo(db_url: str | None, as_json: bool, grids: int, households: int, seed: int) -> None:
    """Fill the server with a generated demo town; prints the grid ids."""
    from server_stub.demo import seed_demo as write_demo

    with open_db(db_url) as db:
        result = write_demo(db, grids=grids, households=households, seed=seed)
    if as_json:
        echo_json(result)
    else:
        for grid_id in result["grids"]:
            click.echo(grid_id)


@cli.group()
def retention() -> None:
    """How long health and isolation data is kept after its purpose ended (PIPL Art. 47)."""


@retention.command("show")
@common_options
def retention_show(db_url: str | None, as_json: bool) -> None:
    """The retention rule of each kind of data: days kept after the round, isolation or visit ended."""
    from server_stub.retention import load_rules

    with open_db(db_url) as db:
        rules = load_rules(db)
    if as_json:
        echo_json({"rules": rules})
        return
    for kind, days in rules.items():
        click.echo(f"{kind}: {'kept (off)' if days is None else f'{days} days'}")


@retention.command("set")
@common_options
@click.argument("kind")
@click.argument("days")
def retention_set(db_url: str | None, as_json: bool, kind: str, days: str) -> None:
    """Set KIND's rule (sampling, followup, visit_health) to DAYS (e.g. 30, 30d) or 'off'."""
    from server_stub.retention import parse_days, set_rule

    with open_db(db_url) as db:
        rules = set_rule(db, kind, parse_days(days))
    if as_json:
        echo_json({"rules": rules})
    else:
        click.echo(f"{kind}: {'kept (off)' if rules[kind] is None else f'{rules[kind]} days'}")


@cli.group()
def town() -> None:
    """The town's settings for its tablets."""


@town.command("retention")
@common_options
@click.option("--days", "days", default=None, help="Days a tablet keeps finished work (e.g. 14, 14d) or 'off'.")
def town_retention(db_url: str | None, as_json: bool, days: str | None) -> None:
    """Show or set how long tablets keep acknowledged records of finished work (they stay on the server)."""
    from server_stub.town_settings import set_tablet_retention, tablet_retention_days

    with open_db(db_url) as db:
        value = tablet_retention_days(db) if days is None else set_tablet_retention(db, days, server_dir())
    if as_json:
        echo_json({"tablet_retention_days": value})
    else:
        click.echo(f"tablets keep finished work: {'everything (off)' if value is None else f'{value} days'}")


@town.group("config")
def town_config() -> None:
    """The town's configuration: roles, groups, home-sampling rule, tablets' retention, time zone (dated versions)."""


@town_config.command("show")
@common_options
def town_config_show(db_url: str | None, as_json: bool) -> None:
    """Show the configuration in force today and every version with its effective date."""
    from field_agent.domain.town import describe
    from server_stub.town_config import history, in_force

    with open_db(db_url) as db:
        current, versions = in_force(db), history(db)
    if as_json:
        echo_json({"in_force": current.to_dict(), "versions": versions.to_list()})
        return
    for line in describe(current):
        say(line)
    for version in versions.versions:
        marker = "*" if version is current else " "
        say(f"{marker} version {version.version} from {version.effective}")
    if not versions.versions:
        say("no version set: the built-in defaults ($FIELD_SERVER_TZ for the time zone)")


@town_config.command("set")
@common_options
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file (or an .xlsx workbook) with the settings to change.",
)
@click.option("--effective", default=None, help="The first day it applies, YYYY-MM-DD (default: today).")
def town_config_set(db_url: str | None, as_json: bool, source: Path, effective: str | None) -> None:
    """Add a version of the town's configuration from FILE; settings it leaves out keep their values."""
    from field_agent.domain.town import TownConfigError, parse_day
    from server_stub.town_config import set_config
    from server_stub.town_config_file import read_config_file

    day = None
    if effective is not None:
        day = parse_day(effective)
        if day is None:
            fail(f"--effective must be a real date written YYYY-MM-DD, not {effective!r}")
    try:
        given = read_config_file(source)
    except TownConfigError as error:
        report_town_problems(error, as_json)
    try:
        with open_db(db_url) as db:
            added = set_config(db, given.data, day, audit_dir=server_dir())
    except TownConfigError as error:
        report_town_problems(given.placed(error), as_json)  # a workbook's problems at their cells
    if as_json:
        echo_json(added.to_dict())
        return
    say(f"town configuration version {added.version} applies from {added.effective}")


def report_town_problems(error: Any, as_json: bool) -> NoReturn:
    """Every problem of a refused configuration, placed (``roles[2].key``, ``角色!B3``), in Chinese and English."""
    from field_agent.domain.i18n import say as say_in

    problems = [
        {"where": p.where, "key": p.detail.key, "zh_CN": say_in(p.detail, "zh_CN"), "en": say_in(p.detail, "en")}
        for p in error.problems
    ]
    if as_json:
        echo_json({"error": "town_config_invalid", "problems": problems})
    else:
        click.echo("field-server: 镇配置有误，未保存 (the town configuration was not saved):", err=True)
        for problem in problems:
            click.echo(inert(f"  {problem['where'] or '-'}: {problem['zh_CN']} ({problem['en']})"), err=True)
    sys.exit(1)


@cli.command("purge")
@common_options
@click.option("--dry-run", is_flag=True, help="Only count what the rules would erase.")
def purge_command(db_url: str | None, as_json: bool, dry_run: bool) -> None:
    """Erase the data whose retention ran out, everywhere (tablets erase their copies at their next sync)."""
    from server_stub.retention import purge

    with open_db(db_url) as db:
        report = purge(db, dry_run=dry_run, audit_dir=server_dir())
    if as_json:
        echo_json(report)
        return
    verb = "would erase" if dry_run else "erased"
    counts = ", ".join(f"{kind} {count}" for kind, count in report["erased"].items())
    click.echo(f"{verb}: {counts}")
    held = {kind: count for kind, count in report["held_open_conflicts"].items() if count}
    if held:
        listed = ", ".join(f"{kind} {count}" for kind, count in held.items())
        click.echo(f"held until their open conflicts are resolved: {listed}")
    if report.get("space_reclaimed") is False:
        click.echo("the database was busy: its write-ahead log still holds old pages; run purge again", err=True)


def main() -> None:
    missing = missing_server_packages()
    if missing:
        fail(f"the town server's packages are not installed here ({', '.join(missing)}): {INSTALL_SERVER}")
    cli(prog_name="field-server")
