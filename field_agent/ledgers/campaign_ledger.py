"""A campaign's ledger (活动台账): one row per target of the campaign, built from its definition alone.

``campaign_ledger(records, key, today)`` lists every target the campaign must reach in the grids whose records are
given (``find_targets``, in household and name order), with the worker's best result for each (``best_results``):
the form's answers (one column per field, labelled as the definition labels it, yes/no as 是/否), the status's
label, the reason, who recorded it and when (town time). A target without a result is listed too, as 未走访, so
the office sees who is left out; the title block adds up targets, done, excused, left out and the percent reached.
ID numbers and phones are masked unless asked (docs/LEDGERS.md, "Masking"); the writers print and save it as any
other ledger (``writers.write_ledger``). Its name is ``campaign:<key>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, DefinitionError, FormField, parse_campaign
from field_agent.domain.campaigns.results import best_results, find_targets
from field_agent.ledgers import labels, masking
from field_agent.ledgers.builder import Ledger, describe_scope, file_scope
from field_agent.ledgers.cells import Cell
from field_agent.ledgers.definitions import Column
from field_agent.ledgers.errors import UnknownLedger
from field_agent.ledgers.index import CHINA, RecordIndex, Records, View, parse_when
from field_agent.ledgers.roster_headers import compose_address

PREFIX = "campaign:"
NOT_VISITED = "未走访"
COUNTS_ZH = {"done": "完成", "excused": "免除", "open": "未完成"}


def is_campaign_ledger(name: str) -> bool:
    """Whether a ledger name (``campaign:typhoon-2026-12``) names a campaign's ledger."""
    return name.startswith(PREFIX)


def campaign_ledger(
    records: Records,
    campaign_key: str,
    today: dt.date,
    masked: bool = True,
    *,
    scope: str | None = None,
    short_scope: str | None = None,
) -> Ledger:
    """The ledger of the campaign ``campaign_key`` (``campaign:KEY`` is taken too) over the live records given: one
    grid's (the tablet's store) or several (the town server's), each grid's targets from its own copy of the
    campaign. ``UnknownLedger`` when no grid holds a campaign by that key (its message names those that do)."""
    key = campaign_key.removeprefix(PREFIX)
    index = RecordIndex.build(records, today)
    copies = _copies(index, key)
    if not copies:
        known = ", ".join(PREFIX + k for k in campaign_keys(index)) or "-"
        raise UnknownLedger(
            f"no ledger named {PREFIX + key!r}; the campaign ledgers here are: {known}",
            code="unknown_ledger",
            name=PREFIX + key,
            known=known,
        )
    first = copies[sorted(copies)[0]][0]
    columns = _columns(first, several_grids=len(copies) > 1)
    rows: list[list[Cell]] = []
    totals = {"targets": 0, "done": 0, "excused": 0}
    for grid in sorted(copies, key=lambda g: (index.grid_name(g), g)):
        campaign, record_ids = copies[grid]
        grid_rows = _grid_rows(index, grid, campaign, record_ids, masked)
        for row in grid_rows:
            totals["targets"] += 1
            counts = row["counts"]
            if counts in ("done", "excused"):
                totals[counts] += 1
            rows.append([_cell(row.get(column.field), column, masked) for column in columns])
    return Ledger(
        name=PREFIX + key,
        title=_title(first),
        scope=scope if scope is not None else describe_scope(index),
        today=today,
        masked=masked,
        columns=columns,
        rows=rows,
        title_en=f"Campaign ledger {key}",
        short_scope=short_scope if short_scope is not None else file_scope(index),
        summary=summary_line(first.subject, totals["targets"], totals["done"], totals["excused"]),
    )


def campaign_keys(index: RecordIndex) -> list[str]:
    """The keys of the campaigns the records hold, sorted."""
    return sorted({str(c.get("key")) for c in index.kind("campaign") if c.get("key")})


def campaign_ledger_list(records: Records, today: dt.date) -> list[dict[str, str]]:
    """Each campaign's ledger as ``export --list`` names a ledger: ``campaign:KEY``, its title."""
    index = RecordIndex.build(records, today)
    items = []
    for key in campaign_keys(index):
        copies = _copies(index, key)
        if copies:
            campaign = copies[sorted(copies)[0]][0]
            items.append({"name": PREFIX + key, "title": _title(campaign), "title_en": f"Campaign ledger {key}"})
    return items


def summary_line(subject: str, targets: int, done: int, excused: int) -> str:
    """``应走访 120 人：完成 80，免除 10，未完成 30，完成率 75.0%`` (户 for a household campaign)."""
    unit = "户" if subject == "household" else "人"
    left = targets - done - excused
    percent = 100.0 * (done + excused) / targets if targets else 100.0
    return f"应走访 {targets} {unit}：完成 {done}，免除 {excused}，未完成 {left}，完成率 {percent:.1f}%"


def _title(campaign: Campaign) -> str:
    return campaign.name if campaign.name.endswith("台账") else f"{campaign.name}台账"


def _copies(index: RecordIndex, key: str) -> dict[str, tuple[Campaign, set[str]]]:
    """Per grid, its copy of the campaign (the latest record with a definition that reads) and the ids of every
    record of that key in the grid (results name one of them)."""
    found: dict[str, tuple[Campaign, set[str]]] = {}
    records = sorted((c for c in index.kind("campaign") if c.get("key") == key), key=lambda c: str(c["id"]))
    for record in records:
        try:
            campaign = parse_campaign(record.get("definition"))
        except DefinitionError:
            continue
        grid = str(record.get("grid"))
        ids = found[grid][1] if grid in found else set()
        found[grid] = (campaign, {*ids, str(record["id"])})
    return found


def _columns(campaign: Campaign, *, several_grids: bool) -> tuple[Column, ...]:
    household = campaign.subject == "household"
    columns = [Column("grid_name", "网格", "Grid", 14)] if several_grids else []
    columns.append(Column("address", "户/地址", "Household / address", 22))
    if household:
        columns += [Column("head", "户主", "Head", 10), Column("household_phone", "联系电话", "Phone", 14, "phone")]
    else:
        columns += [
            Column("name", "姓名", "Name", 10),
            Column("id_number", "公民身份号码", "ID number", 20, "id_number"),
        ]
    columns += [Column(f"answer.{item.name}", item.label, item.name, _width(item)) for item in campaign.form]
    columns += [
        Column("status_zh", "状态", "Status", 12),
        Column("counts_zh", "完成情况", "Counts as", 8),
        Column("reason", "原因", "Reason", 20),
        Column("by", "记录人", "Recorded by", 10),
        Column("at", "记录时间", "Recorded at", 17),
    ]
    return tuple(columns)


def _width(item: FormField) -> int:
    return {"yesno": 6, "number": 8, "date": 11, "datetime": 17, "signature": 10}.get(item.type, 18)


def _grid_rows(
    index: RecordIndex, grid: str, campaign: Campaign, record_ids: set[str], masked: bool
) -> list[dict[str, Any]]:
    residents = [r for r in index.kind("resident") if r.get("grid") == grid]
    households = {h["id"]: h for h in index.kind("household") if h.get("grid") == grid}
    targets = find_targets(campaign, residents, households, index.today)
    results = [r for r in index.kind("campaign_result") if r.get("grid") == grid and r.get("campaign") in record_ids]
    best = best_results(campaign, results)
    rows = []
    for target in targets:
        if campaign.subject == "household":
            household: View = households.get(target) or {}
            person: View = {}
        else:
            person = index.get("resident", target) or {}
            household = households.get(str(person.get("household"))) or {}
        result = best.get(target)
        status = campaign.status((result or {}).get("status"))
        counts = status.counts if status is not None else "open"
        answers = (result or {}).get("answers") or {}
        row: dict[str, Any] = {
            "grid_name": index.grid_name(grid),
            "address": household.get("address") or compose_address(household),
            "head": household.get("head"),
            "household_phone": household.get("phone"),
            "name": person.get("name"),
            "id_number": person.get("id_number"),
            "status_zh": status.label if status is not None else ((result or {}).get("status") or NOT_VISITED),
            "counts": counts,
            "counts_zh": COUNTS_ZH[counts],
            "reason": (result or {}).get("reason"),
            "by": (result or {}).get("by"),
            "at": _minute(parse_when((result or {}).get("at"))),
        }
        for item in campaign.form:
            row[f"answer.{item.name}"] = _answer(item, answers.get(item.name) if isinstance(answers, Mapping) else None)
        rows.append(row)
    return rows


def _answer(item: FormField, value: object) -> Cell | None:
    """One answer as the ledger shows it: yes/no as 是/否, a number as a number, a date as a date, a time in town
    time to the minute, anything else as its text."""
    if value is None or value == "":
        return None
    if item.type == "yesno" and isinstance(value, bool):
        return labels.YES_NO[value]
    if item.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if item.type == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if item.type == "datetime":
        when = parse_when(value)
        return _minute(when) if when is not None else str(value)
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def _minute(when: dt.datetime | None) -> dt.datetime | None:
    return when.astimezone(CHINA).replace(second=0, microsecond=0) if when is not None else None


def _cell(value: object, column: Column, masked: bool) -> Cell:
    if value is None:
        return ""
    if column.mask:
        return masking.mask_value(str(value), column.mask) if masked else str(value)
    if isinstance(value, bool):
        return labels.YES_NO[value]
    if isinstance(value, str):
        return masking.mask_numbers_in_text(value) if masked else value
    if isinstance(value, int | float | dt.date):
        return value
    return str(value)
