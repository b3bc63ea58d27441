"""Entry point of ``field-agent``: a click group whose commands load lazily (so only ``tui`` imports Textual)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

from field_agent.cli.common import default_store_path

# command name -> "module:attribute"; a module owns one concept's commands.
COMMANDS: dict[str, str] = {
    "init": "field_agent.cli.store_cmds:init_command",
    "records": "field_agent.cli.store_cmds:records_group",
    "status": "field_agent.cli.store_cmds:status_command",
    "verify": "field_agent.cli.store_cmds:verify_command",
    "passwd": "field_agent.cli.store_cmds:passwd_command",
    "enroll": "field_agent.cli.sync_cmds:enroll_command",
    "sync": "field_agent.cli.sync_cmds:sync_command",
    "conflicts": "field_agent.cli.sync_cmds:conflicts_group",
    "campaigns": "field_agent.cli.campaign_cmds:campaigns_group",
    "import": "field_agent.cli.ledger_cmds:import_command",
    "export": "field_agent.cli.ledger_cmds:export_command",
    "tui": "field_agent.cli.tui_cmd:tui_command",
    "demo": "field_agent.cli.demo_cmd:demo_command",
}

HELP = {
    "init": "Create a new encrypted store (asks for a strong passphrase).",
    "records": "Read and write records as JSON (list, get, put, delete).",
    "status": "Counts per kind, pending changes, open conflicts, last sync.",
    "verify": "Check a store's integrity; --salvage OUT copies every intact record.",
    "passwd": "Change the store's passphrase (re-wraps the key, no data rewrite).",
    "enroll": "Enrol this device with the town server using a one-time code.",
    "sync": "Push local changes and pull others' (once, or --watch in the nightly window).",
    "conflicts": "List and resolve true conflicts.",
    "campaigns": "The grid's campaigns: progress and the nobody-left-out list (list, show KEY).",
    "import": "Import a roster (.xlsx/.csv) into the store.",
    "export": "Export one of the six ledgers to .xlsx or .csv.",
    "tui": "Open the terminal app (the default command).",
    "demo": "Local town server + demo town + enrolled store + the terminal app.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self.load(name) if name in COMMANDS else None

    def load(self, name: str) -> click.Command:
        """The command ``name`` (one of ``COMMANDS``), imported now."""
        module_name, attribute = COMMANDS[name].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            return _not_yet(name)
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[name]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, HELP[name]) for name in sorted(COMMANDS)])


def _not_yet(name: str) -> click.Command:
    @click.command(name=name, help=f"{HELP[name]} (not built yet)")
    def command() -> None:
        raise click.ClickException(f"'{name}' is not available in this build yet")

    return command


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path),
    default=None,
    envvar="FIELD_AGENT_STORE",
    help="Store directory (default: the user data dir).",
)
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None, help="Language of the terminal app.")
@click.version_option(package_name="field-agent")
@click.pass_context
def cli(ctx: click.Context, store_path: Path | None, lang: str | None) -> None:
    """Field Agent: door-to-door rounds, home sampling and isolation follow-ups, offline, synced nightly."""
    ctx.ensure_object(dict)
    ctx.obj["store_path"] = store_path or default_store_path()
    ctx.obj["lang"] = lang or os.environ.get("FIELD_AGENT_LANG")
    if ctx.invoked_subcommand is None:
        ctx.invoke(cli.load("tui"))


def main() -> None:
    cli(prog_name="field-agent")
