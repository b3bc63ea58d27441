"""``field-agent campaigns list|show``: the grid's campaigns on this tablet, their progress and who is left out.

The same numbers as the app's Today and campaign screens (``field_agent.tui.queries.campaigns``, which imports no
Textual). ID numbers are masked as every masked output masks them (docs/LEDGERS.md, "Masking").
"""

from __future__ import annotations

from datetime import date, datetime

import click

from field_agent.cli.common import echo, echo_json, fail
from field_agent.cli.store_cmds import open_store
from field_agent.store import Store
from field_agent.tui.queries.campaigns import CampaignLine, campaign_detail, campaign_lines, campaigns
from field_agent.tui.timefmt import ZONE_SETTING, town_zone


def _today(store: Store) -> date:
    """Today in the town's time zone (the store's setting, Asia/Shanghai by default)."""
    zone = town_zone(store.meta_get(ZONE_SETTING))
    return datetime.now(zone).date()


@click.group("campaigns")
def campaigns_group() -> None:
    """The grid's campaigns: progress and the "nobody left out" list."""


@campaigns_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed, ended and future campaigns too.")
@click.option("--json", "as_json", is_flag=True, help="JSON array, one object per campaign.")
@click.pass_context
def campaigns_list(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Each active campaign: key, name, template, status, dates, targets, done, excused, left out."""
    with open_store(ctx) as store:
        lines = campaign_lines(store.reader, _today(store), active_only=not show_all)
    if as_json:
        echo_json([line.to_dict() for line in lines])
        return
    if not lines:
        echo("no active campaigns" if not show_all else "no campaigns")
        return
    for line in lines:
        echo(_summary(line))


def _summary(line: CampaignLine) -> str:
    return (
        f"{line.key}  {line.name}  [{line.template}, {line.status}]  {line.starts}..{line.ends or ''}  "
        f"targets {line.targets}  done {line.done}  excused {line.excused}  left out {line.left_out}"
    )


@campaigns_group.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Progress and the left-out list as JSON (ID numbers masked).")
@click.pass_context
def campaigns_show(ctx: click.Context, key: str, as_json: bool) -> None:
    """One campaign (by its key): progress and everyone left out, with masked ID numbers."""
    with open_store(ctx) as store:
        found = next((item for item in campaigns(store.reader) if item.campaign.key == key), None)
        if found is None:
            fail(f"no campaign with key {key!r} in this store: 'field-agent campaigns list --all' names them")
        detail = campaign_detail(store.reader, found.record_id, _today(store))
    assert detail is not None
    left_out = [
        {
            "target": row.target,
            "household": row.household,
            "name": row.name,
            "address": row.address,
            "id_number": row.masked_id or None,
            "status": row.status,
        }
        for row in detail.left_out
    ]
    if as_json:
        echo_json({**detail.line.to_dict(), "subject": detail.active.campaign.subject, "left_out_list": left_out})
        return
    echo(_summary(detail.line))
    labels = {status.key: status.label for status in detail.active.campaign.statuses}
    for row in left_out:
        status = labels.get(str(row["status"]), "-") if row["status"] else "-"
        echo(f"  {row['name']}  {row['id_number'] or ''}  {status}  {row['address']}")
