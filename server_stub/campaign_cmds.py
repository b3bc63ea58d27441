"""``field-server campaign create|list|show|close``: the town office's campaigns (see server_stub/campaigns.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson

from field_agent.domain.printable import inert
from server_stub.cli import common_options, echo_json, fail, open_db, say
from server_stub.town_time import town_today, town_zone

if TYPE_CHECKING:
    from field_agent.domain.roles import RoleConfig

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["zh_CN", "en"]),
    envvar="FIELD_AGENT_LANG",
    default="zh_CN",
    show_default=True,
    help="Language of the messages (also FIELD_AGENT_LANG).",
)

TEXT = {
    "zh_CN": {
        "bad_json": "{file}：不是有效的 JSON（第 {line} 行）",
        "bad_file": "{file}：活动定义应为 .xlsx 或 .json 文件",
        "problems": "{file}：活动定义有 {count} 处问题，未创建活动",
        "created": "已创建活动 {key}（{name}），下发到 {count} 个网格；平板下次同步时收到",
        "closed": "已结束活动 {key}（{count} 个网格）",
        "none": "还没有活动",
        "line": "{key}  {name}  [{template}]  {status}  {starts}–{ends}  应到 {targets}  已完成 {done}  "
        "免除 {excused}  遗漏 {left_out}  {percent}%",
        "grid": "  {name}：应到 {targets}  已完成 {done}  免除 {excused}  遗漏 {left_out}  {percent}%",
        "left_out": "    遗漏：{name}  {address}  {note}",
        "not_yet": "尚未走访",
        "bad_date": "--date 应写作 年-月-日（如 2026-12-06）",
        "route": "{team} {date} 预约上门共 {count} 户次（按楼栋顺序）：",
        "all_reached": "    已全部到位（100%）",
        "active": "进行中",
        "closed_status": "已结束",
    },
    "en": {
        "bad_json": "{file}: not valid JSON (line {line})",
        "bad_file": "{file}: a campaign definition is a .xlsx or .json file",
        "problems": "{file}: the campaign definition has {count} problem(s); no campaign was created",
        "created": "campaign {key} ({name}) created for {count} grid(s); tablets receive it at their next sync",
        "closed": "campaign {key} closed ({count} grid(s))",
        "none": "no campaigns yet",
        "line": "{key}  {name}  [{template}]  {status}  {starts}–{ends}  targets {targets}  done {done}  "
        "excused {excused}  left out {left_out}  {percent}%",
        "grid": "  {name}: targets {targets}  done {done}  excused {excused}  left out {left_out}  {percent}%",
        "left_out": "    left out: {name}  {address}  {note}",
        "not_yet": "not reached yet",
        "bad_date": "--date must be written YYYY-MM-DD (e.g. 2026-12-06)",
        "route": "{team} on {date}: {count} appointment(s), building by building:",
        "all_reached": "    everyone reached (100%)",
        "active": "active",
        "closed_status": "closed",
    },
}


def _t(lang: str, text: str, /, **params: Any) -> str:
    return TEXT[lang][text].format(**params)


def read_definition(file: Path, lang: str, roles: RoleConfig) -> Any:
    """The definition data in ``file`` (.json, or an .xlsx campaign sheet as the office fills it): every problem
    is printed at its place (the sheet's cell) and the command exits 1."""
    suffix = file.suffix.lower()
    if suffix == ".json":
        try:
            return orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as error:
            fail(_t(lang, "bad_json", file=file.name, line=error.lineno))
    if suffix not in (".xlsx", ".xlsm"):
        fail(_t(lang, "bad_file", file=file.name))
    from field_agent.ledgers.campaign_sheet import read_campaign_file
    from field_agent.ledgers.errors import CampaignSheetError

    try:
        return read_campaign_file(file, roles=roles.roles, groups=roles.groups)
    except CampaignSheetError as error:
        problems = [{"where": cell, "problem": text} for cell, text in error.cells(lang)]
        _refuse(file, problems, False, lang)


def _refuse(file: Path, problems: list[dict[str, str]], as_json: bool, lang: str) -> NoReturn:
    if as_json:
        echo_json({"created": False, "problems": problems})
    else:
        for problem in problems:
            click.echo(inert(f"{file.name}: {problem['where']}: {problem['problem']}"), err=True)
    fail(_t(lang, "problems", file=file.name, count=len(problems)))


@click.group("campaign")
def campaign_group() -> None:
    """Create, list, show and close campaigns (door-to-door work that must reach everyone it targets)."""


@campaign_group.command("create")
@common_options
@LANG_OPTION
@click.option("--from", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
def campaign_create(db_url: str | None, as_json: bool, lang: str, file: Path) -> None:
    """Create a campaign from the office's definition file and send it to its grids."""
    from field_agent.domain.campaigns.definition import DefinitionError
    from field_agent.domain.i18n import say as say_message
    from server_stub.campaigns import create_campaign, parse_for_town
    from server_stub.town_config import in_force

    with open_db(db_url) as db:
        roles = in_force(db).roles
        data = read_definition(file, lang, roles)
        try:
            campaign = parse_for_town(data, roles)
        except DefinitionError as error:
            problems = [{"where": p.path, "problem": say_message(p.message, lang)} for p in error.problems]
            _refuse(file, problems, as_json, lang)
        grids = create_campaign(db, campaign)
    if as_json:
        echo_json({"created": True, "key": campaign.key, "name": campaign.name, "grids": grids})
    else:
        say(_t(lang, "created", key=campaign.key, name=campaign.name, count=len(grids)))


@campaign_group.command("list")
@common_options
@LANG_OPTION
def campaign_list(db_url: str | None, as_json: bool, lang: str) -> None:
    """Every campaign with its progress (home sampling rounds included)."""
    from server_stub.campaigns import campaign_summaries

    with open_db(db_url) as db:
        summaries = campaign_summaries(db, town_today())
    if as_json:
        echo_json({"campaigns": [summary.to_dict() for summary in summaries]})
        return
    if not summaries:
        say(_t(lang, "none"))
    for summary in summaries:
        say(_line(lang, summary.to_dict()))


def _line(lang: str, data: dict[str, Any]) -> str:
    status = _t(lang, "active" if data["status"] == "active" else "closed_status")
    return _t(lang, "line", **{**data, "status": status, "ends": data["ends"] or ""})


@campaign_group.command("show")
@common_options
@LANG_OPTION
@click.argument("key")
def campaign_show(db_url: str | None, as_json: bool, lang: str, key: str) -> None:
    """One campaign: its progress per grid and the names of whoever is left out."""
    from server_stub.campaigns import CampaignError, campaign_summaries

    with open_db(db_url) as db:
        summaries = campaign_summaries(db, town_today(), key)
    if not summaries:
        raise CampaignError(f"no campaign {key!r} on this server (field-server campaign list shows them)")
    data = summaries[0].to_dict(left_out=True)
    if as_json:
        echo_json(data)
        return
    say(_line(lang, data))
    for grid in data["grids"]:
        say(_t(lang, "grid", **grid))
        for person in grid["left_out_people"]:
            note = person["status_label"] or _t(lang, "not_yet")
            say(_t(lang, "left_out", name=person["name"], address=person["address"], note=note))
        if not grid["left_out_people"]:
            say(_t(lang, "all_reached"))


@campaign_group.command("route")
@common_options
@LANG_OPTION
@click.argument("key")
@click.option("--team", required=True, help="The team (e.g. 流动采样一队), as the appointments name it.")
@click.option("--date", "day", default=None, help="The day (YYYY-MM-DD, default today in the town's time zone).")
def campaign_route(db_url: str | None, as_json: bool, lang: str, key: str, team: str, day: str | None) -> None:
    """A team's appointments (预约上门) of one day, building by building in walking order."""
    from server_stub.campaigns import team_route

    try:
        when = date.fromisoformat(day) if day else town_today()
    except ValueError:
        fail(_t(lang, "bad_date"))
    with open_db(db_url) as db:
        grids = team_route(db, key, team, when, town_zone())
    if as_json:
        echo_json({"key": key, "team": team, "date": when.isoformat(), "grids": grids})
        return
    say(
        _t(
            lang,
            "route",
            team=team,
            date=when.isoformat(),
            count=sum(len(b["stops"]) for g in grids for b in g["buildings"]),
        )
    )
    for grid in grids:
        say(grid["name"])
        for building in grid["buildings"]:
            say(f"  {building['building'] or '—'}")
            for stop in building["stops"]:
                say(f"    {stop['at'][11:16]}  {stop['name']}  {stop['address']}")


@campaign_group.command("close")
@common_options
@LANG_OPTION
@click.argument("key")
def campaign_close(db_url: str | None, as_json: bool, lang: str, key: str) -> None:
    """Close a campaign in every grid (tablets see it closed at their next sync; results stay)."""
    from server_stub.campaigns import close_campaign

    with open_db(db_url) as db:
        grids = close_campaign(db, key)
    if as_json:
        echo_json({"closed": True, "key": key, "grids": grids})
    else:
        say(_t(lang, "closed", key=key, count=len(grids)))
