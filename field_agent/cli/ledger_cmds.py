"""``field-agent export`` (the six ledgers and each campaign's, ``campaign:KEY``, to .xlsx/.csv) and
``field-agent import`` (a roster into the store)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from field_agent.cli.common import PASSPHRASE_ENV, echo, echo_json, fail, language, store_path
from field_agent.cli.store_cmds import open_store
from field_agent.ledgers import messages
from field_agent.ledgers.campaign_ledger import campaign_ledger_list
from field_agent.ledgers.definitions import ledger_list, ledger_list_line, load_definitions
from field_agent.ledgers.device import all_envelopes, china_today, export_from_store, import_into_store
from field_agent.ledgers.errors import LedgerError
from field_agent.ledgers.messages import exported_message
from field_agent.ledgers.roster_messages import say
from field_agent.ledgers.writers import export_path, export_suffix


@click.command("export")
@click.argument("ledger", required=False)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Output file (.xlsx or .csv), or a folder for the default name <scope>-<ledger>-<date>.xlsx "
    "(the current folder when not given).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None, help="File type when --out is a folder."
)
@click.option("--unmasked", is_flag=True, help="Full ID numbers and phones (grid leader only; audited).")
@click.option("--list", "list_only", is_flag=True, help="Name the ledgers (with the store's campaigns' ones) and exit.")
@click.option(
    "--definitions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A ledger definitions JSON file instead of the defaults.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def export_command(
    ctx: click.Context,
    ledger: str | None,
    out: Path | None,
    fmt: str | None,
    unmasked: bool,
    list_only: bool,
    definitions: Path | None,
    as_json: bool,
) -> None:
    """Export one of the six ledgers (e.g. residents), or a campaign's (campaign:KEY), to an .xlsx or .csv file."""
    lang = language(ctx)
    try:
        known = load_definitions(definitions)
    except LedgerError as error:
        fail(error.describe(lang))
    if list_only:
        items = ledger_list(known) + _campaign_ledgers(ctx)
        if as_json:
            echo_json(items)
        else:
            for item in items:
                echo(ledger_list_line(item))
        return
    if not ledger:
        fail(messages.text("name_a_ledger", lang, known=", ".join(known)))
    with open_store(ctx) as store:
        try:
            suffix = export_suffix(out, fmt)
            built = export_from_store(store, ledger, out, fmt=fmt, unmasked=unmasked, definitions=known)
        except LedgerError as error:
            fail(error.describe(lang))
    path = export_path(out, built, suffix)
    if as_json:
        echo_json(
            {
                "ledger": built.name,
                "title": built.title,
                "rows": len(built.rows),
                "out": str(path),
                "masked": built.masked,
            }
        )
    else:
        echo(exported_message(built, path, lang))


def _campaign_ledgers(ctx: click.Context) -> list[dict[str, str]]:
    """The campaigns' ledgers (``campaign:KEY``) of the store, when there is one and its passphrase is at hand (no
    prompt just to list)."""
    if not store_path(ctx).exists() or not (os.environ.get(PASSPHRASE_ENV) or sys.stdin.isatty()):
        return []
    with open_store(ctx) as store:
        return campaign_ledger_list(all_envelopes(store), china_today())


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones.")
@click.option(
    "--sheet", default=None, help="Read only this sheet of an .xlsx (default: every sheet with a roster header)."
)
@click.option(
    "--words",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The town's words file (JSON), merged over the shipped words table (docs/LEDGERS.md).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def import_command(
    ctx: click.Context, file: Path, skip_invalid: bool, sheet: str | None, words: Path | None, as_json: bool
) -> None:
    """Import a roster (.xlsx or .csv with headers such as 姓名, 身份证号, 联系电话, 楼栋/单元/房号)."""
    lang = language(ctx)
    with open_store(ctx) as store:
        try:
            report = import_into_store(store, file, skip_invalid=skip_invalid, sheet=sheet, words=words)
        except LedgerError as error:  # a roster that cannot be read at all (RosterFileError), in the command's language
            fail(error.describe(lang))
        # what is printed, made now: the report holds every parsed row and planned write (~300 MB for a roster of
        # 100,000), which should be gone before closing the store finishes its compaction
        output = report.as_dict(lang) if as_json else None
        errors, info = ([], []) if as_json else (report.error_lines(lang), report.info_lines(lang))
        imported, summary = report.imported, report.summary_text(lang)
        del report
    if output is not None:
        echo_json(output)
    else:
        for line in errors:
            echo(line, err=True)
        for line in info:
            echo(line)
        if imported:
            echo(summary)
    if not imported:
        fail(summary + say("summary.refused_hint", lang))
