"""``field-agent enroll``, ``sync`` (once or ``--watch``) and ``conflicts list/resolve``."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson
import platformdirs

from field_agent.cli.common import echo, echo_json, fail, read_passphrase, store_path
from field_agent.domain.printable import inert_line
from field_agent.ledgers.masking import mask_kind, mask_numbers_in_text, mask_record, mask_value

ONE_SHOT_ATTEMPTS = 3
EXIT_OFFLINE = 3
EXIT_REFUSED = 4


@contextmanager
def open_store(ctx: click.Context) -> Iterator[Any]:
    """Open the encrypted store named by ``--store``, or exit with a one-line reason."""
    from field_agent.store import Store, StoreError

    path = store_path(ctx)
    if not Path(path).exists():
        fail(f"no store at {path}: create one with 'field-agent init'")
    passphrase = read_passphrase()
    try:
        store = Store.open(path, passphrase)
    except StoreError as error:
        fail(str(error))
    try:
        yield store
    finally:
        store.close()


def mask_id_numbers(text: str) -> str:
    """Mask every ID number and phone number quoted in ``text`` as every masked output does."""
    return mask_numbers_in_text(text)


def refused_lines(refused: list[dict[str, Any]], limit: int = 10) -> list[str]:
    """One line per refusal (``sync.refusals.describe_refusals``): whose record, which fields, why."""
    lines = [
        f"{entry['kind']} {entry['name'] or entry['record']} ({', '.join(entry['fields'])}): "
        f"{mask_id_numbers(entry['reason'] or entry['code'])}"
        for entry in refused[:limit]
    ]
    if len(refused) > limit:
        lines.append(f"... and {len(refused) - limit} more (field-agent status)")
    return lines


def _exit_code(kind: str | None) -> int:
    if kind is None:
        return 0
    if kind == "offline":
        return EXIT_OFFLINE
    if kind in ("auth", "device_expired", "certificate", "not_enrolled"):
        return EXIT_REFUSED
    return 1


@click.command("enroll")
@click.argument("url")
@click.argument("code")
@click.option("--name", "device_name", default=None, help="Device name the town office sees (default: host name).")
@click.option("--json", "as_json", is_flag=True, help="Print the enrolment as JSON.")
@click.pass_context
def enroll_command(ctx: click.Context, url: str, code: str, device_name: str | None, as_json: bool) -> None:
    """Enrol this device with the town server at URL using the one-time CODE."""
    from field_agent.sync.agent import enroll
    from field_agent.sync.errors import SyncError

    name = (device_name or socket.gethostname() or "tablet")[:64]
    with open_store(ctx) as store:
        try:
            answer = asyncio.run(enroll(store, url, code, name))
        except SyncError as error:
            fail(error.message, _exit_code(error.kind) or 1)
    if as_json:
        echo_json(answer.model_dump(exclude={"token"}))
        return
    until = f", until {answer.until}" if answer.until else ""  # a temporary member's last day
    echo(
        f"Enrolled as {answer.worker} ({answer.role}{until}) in grid {answer.grid_name}, {answer.town}. "
        "Run 'field-agent sync' to fetch the grid's records."
    )


class _Progress:
    """Shows sync progress: a bar on a terminal, plain lines otherwise (stderr, so stdout stays clean)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.shown = 0
        self.last_line = ""

    def __call__(self, event: Any) -> None:
        if self.tty and event.phase == "push" and event.total:
            if self.bar is None:
                self.bar = click.progressbar(length=event.total, label="Sending changes", file=sys.stderr)
                self.bar.__enter__()
            self.bar.length = max(self.bar.length, event.total)
            self.bar.update(event.done - self.shown)
            self.shown = event.done
            return
        self._close_bar()
        if event.phase in ("connect", "push", "pull", "retry"):
            line = f"{event.phase}: {event.message}"
            if line != self.last_line and (not self.tty or event.phase != "pull"):
                echo(line, err=True)
            elif self.tty and event.phase == "pull":
                click.echo(f"\r{inert_line(event.message)}", err=True, nl=False)
            self.last_line = line

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def close(self) -> None:
        self._close_bar()
        if self.tty and self.last_line.startswith("pull"):
            echo("", err=True)


@click.command("sync")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON summary: pushed, pulled, conflicts, refused, duration, and each refusal (whose record, "
    "which fields, why).",
)
@click.option("--watch", is_flag=True, help="Run as a daemon: sync in the nightly window, on demand outside it.")
@click.option("--window", default=None, help="Nightly window, local time HH:MM-HH:MM (default 20:00-07:00).")
@click.option("--interval", "interval_min", type=float, default=None, help="Minutes between syncs in the window.")
@click.option("--log-file", type=click.Path(path_type=Path), default=None, help="Daemon log file.")
@click.option("--trigger-file", type=click.Path(path_type=Path), default=None, help="Create this file to sync now.")
@click.pass_context
def sync_command(
    ctx: click.Context,
    as_json: bool,
    watch: bool,
    window: str | None,
    interval_min: float | None,
    log_file: Path | None,
    trigger_file: Path | None,
) -> None:
    """Push local changes and pull others' (once), or keep syncing nightly with --watch."""
    from field_agent.sync.agent import SyncAgent
    from field_agent.sync.backoff import RetryPolicy
    from field_agent.sync.refusals import describe_refusals

    if watch:
        sys.exit(_watch(ctx, window, interval_min, log_file, trigger_file))
    with open_store(ctx) as store:
        # once: a few quick retries, then report (the next run resumes)
        agent = SyncAgent(store, retry=RetryPolicy(attempts=ONE_SHOT_ATTEMPTS, cap_s=2))
        progress = None if as_json else _Progress()
        try:
            result = asyncio.run(agent.sync(progress))
        finally:
            if progress is not None:
                progress.close()
        refusals = (
            [{**entry, "reason": mask_id_numbers(entry["reason"])} for entry in describe_refusals(store)]
            if result.refused
            else []
        )
    if as_json:
        echo_json({**result.to_json(), "refusals": refusals})
    elif result.error is None:
        echo(
            f"Sent {result.pushed} changes, received {result.pulled} records in {result.duration_s:.1f} s"
            + (" (stopped early)" if result.stopped else "")
            + "."
        )
        if result.erased:
            dropped = f" (with {result.erased_unsent} unsent changes to them)" if result.erased_unsent else ""
            click.echo(f"{result.erased} records erased under the town's retention rule (已按规定删除){dropped}")
        if result.retired:
            echo(
                f"{result.retired} old records of finished work left this tablet, kept on the town server "
                "(已移出平板，存于镇服务器)"
            )
        if result.conflicts:
            echo(f"{result.conflicts} conflicts need a decision: field-agent conflicts list")
        if result.refused:
            echo(f"{result.refused} changes were refused by the server and kept aside:")
            for line in refused_lines(refusals):
                echo(f"  {line}")
    if result.error is not None:
        echo(f"field-agent: sync failed: {result.error}", err=True)
        sys.exit(_exit_code(result.error_kind))


def _watch(
    ctx: click.Context, window: str | None, interval_min: float | None, log_file: Path | None, trigger: Path | None
) -> int:
    """Run the nightly daemon; the store is opened for each run only, so the terminal app can use it meanwhile."""
    from field_agent.store import Store
    from field_agent.sync.agent import SyncAgent
    from field_agent.sync.watch import StoreSession, Watcher, config_from_store, install_signals, log_to_file

    with open_store(ctx) as store:
        try:
            config = config_from_store(store, window, interval_min)
        except ValueError as error:
            fail(str(error), 2)
    path, passphrase = store_path(ctx), read_passphrase()
    state = platformdirs.user_state_path("field-agent", appauthor=False)
    config.trigger_path = trigger or state / "sync-now"
    log_path = log_file or platformdirs.user_log_path("field-agent", appauthor=False) / "sync.log"
    handler = log_to_file(log_path)
    echo(
        f"Watching (window {config.window}); log: {log_path}; sync now: kill -USR1 {os.getpid()} "
        f"or touch {config.trigger_path}",
        err=True,
    )
    session = StoreSession(lambda: Store.open(path, passphrase), SyncAgent)
    watcher = Watcher(session, config)

    async def main() -> int:
        install_signals(watcher)
        return await watcher.run()

    try:
        return asyncio.run(main())
    finally:
        handler.close()


@click.group("conflicts")
def conflicts_group() -> None:
    """List and resolve true conflicts (two people changed the same thing)."""


def _mask(field: str, value: Any) -> Any:
    """A conflicting value as masked outputs show it: ID numbers and phones through the domain's masks."""
    kind = mask_kind(field)
    if kind and isinstance(value, str):
        return mask_value(value, kind)
    return mask_record(value)


def _masked_conflict(entry: dict[str, Any]) -> dict[str, Any]:
    masked = dict(entry)
    for side in ("winner", "loser"):
        if isinstance(entry.get(side), dict) and "value" in entry[side]:
            masked[side] = {**entry[side], "value": _mask(entry["field"], entry[side]["value"])}
    return masked


def _show(value: Any) -> str:
    return orjson.dumps(value).decode() if not isinstance(value, str) else value


@conflicts_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of open conflicts (ID numbers and phones masked).")
@click.option("--unmasked", is_flag=True, help="Full ID numbers and phones (grid leader only; audited).")
@click.pass_context
def conflicts_list(ctx: click.Context, as_json: bool, unmasked: bool) -> None:
    """Show every open conflict on this device."""
    from field_agent.ledgers.device import allow_unmasked_records
    from field_agent.ledgers.errors import LedgerError
    from field_agent.sync.conflicts import list_conflicts

    with open_store(ctx) as store:
        conflicts = list_conflicts(store)
        if unmasked:
            try:
                allow_unmasked_records(store, what="conflicts list", rows=len(conflicts))
            except LedgerError as error:
                fail(str(error))
    if as_json:
        echo_json(conflicts if unmasked else [_masked_conflict(entry) for entry in conflicts])
        return
    if not conflicts:
        echo("No open conflicts.")
        return
    for entry in conflicts:
        field = entry["field"]
        echo(f"{entry['kind']} {entry['record']}  conflict {entry['cid']}")
        if entry["type"] == "value":
            for side in ("winner", "loser"):
                mine = " (this device)" if entry["mine"] == side else ""
                label = "kept " if side == "winner" else "other"
                value = entry[side]["value"]
                value = _show(value if unmasked else _mask(field, value))
                echo(f"  {field}: {label} {value}  at {entry[side]['at']}{mine}")
        else:
            echo(f"  deleted at {entry['deleted_at']}; edited meanwhile: {', '.join(sorted(entry['edited']))}")
    echo("Resolve with: field-agent conflicts resolve RECORD CID --mine | --theirs | --value JSON")


@conflicts_group.command("resolve")
@click.argument("record")
@click.argument("cid")
@click.option("--mine", "choice", flag_value="mine", help="Keep this device's value.")
@click.option("--theirs", "choice", flag_value="theirs", help="Keep the other device's value.")
@click.option("--value", "value_json", default=None, help="Type the right value, as JSON (e.g. '\"13800138000\"').")
@click.pass_context
def conflicts_resolve(ctx: click.Context, record: str, cid: str, choice: str | None, value_json: str | None) -> None:
    """Close conflict CID on RECORD; the next sync closes it on every device."""
    from field_agent.store import StoreError
    from field_agent.sync.conflicts import resolve

    if (choice is None) == (value_json is None):
        fail("give exactly one of --mine, --theirs or --value JSON", 2)
    value = None
    if value_json is not None:
        try:
            value = orjson.loads(value_json)
        except orjson.JSONDecodeError:
            fail(f"--value must be JSON, e.g. '\"13800138000\"' or 42; got {value_json!r}", 2)
        choice = "value"
    with open_store(ctx) as store:
        try:
            resolve(store, record, cid, str(choice), value)
        except (StoreError, KeyError, ValueError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            fail(f"cannot resolve: {message}")
    echo(f"Resolved {cid} on {record}; it closes everywhere at the next sync.")
