"""Build a ledger's rows from record envelopes: pure, no store, no files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from field_agent.domain.groups import EligibilityRule
from field_agent.domain.isolation import followup_reached
from field_agent.domain.sorting import natural_key
from field_agent.ledgers import facts, labels, masking
from field_agent.ledgers.cells import Cell, cell_text
from field_agent.ledgers.definitions import Column, LedgerDefinition, get_definition
from field_agent.ledgers.erasures import erased_label, retired_label
from field_agent.ledgers.housing_rows import household_rows
from field_agent.ledgers.index import RecordIndex, Records
from field_agent.ledgers.row_values import as_date, day_of_moment, household_fields, short_time
from field_agent.ledgers.staff_rows import member_rows, task_rows
from field_agent.ledgers.supply_rows import campaign_result_rows

__all__ = ["Cell", "Ledger", "build_ledger", "describe_scope", "file_scope", "grid_file_scope", "grid_label"]


@dataclass(frozen=True)
class Ledger:
    """A built ledger: its title, headers and rows, ready for a writer.

    Cells are typed: dates are ``date``, times aware ``datetime`` in town time, ages, counts and temperatures
    numbers, a coverage a fraction (its column's ``format`` is ``percent``); ``text_rows`` gives them as text.
    """

    name: str
    title: str
    scope: str
    today: dt.date
    masked: bool
    columns: tuple[Column, ...]
    rows: list[list[Cell]]
    title_en: str = ""
    short_scope: str = ""
    """The scope as a file name starts with it: ``东门社区第一网格`` for a grid, the town's name for a town."""
    summary: str = ""
    """A line of totals printed under the title (a campaign's targets, done, excused, left out and percent)."""

    @property
    def headers(self) -> list[str]:
        return [c.zh for c in self.columns]

    @property
    def headers_en(self) -> list[str]:
        return [c.en for c in self.columns]

    def as_dicts(self) -> list[dict[str, Cell]]:
        """Rows keyed by column field, typed (orjson writes dates and times as ISO 8601, a coverage as 0.597)."""
        return [dict(zip((c.field for c in self.columns), row, strict=True)) for row in self.rows]

    def text_rows(self) -> list[list[str]]:
        """Rows as text, as the .csv file and the screens show them (``2026-12-05 09:30``, ``59.7%``)."""
        formats = [c.format for c in self.columns]
        return [[cell_text(value, fmt) for value, fmt in zip(row, formats, strict=True)] for row in self.rows]


def build_ledger(
    name: str,
    envelopes: Records,
    *,
    today: dt.date,
    masked: bool = True,
    definitions: Mapping[str, LedgerDefinition] | None = None,
    scope: str | None = None,
    short_scope: str | None = None,
    rule: EligibilityRule | None = None,
) -> Ledger:
    """Build one ledger over every live record in ``envelopes``; ID numbers and phones masked unless asked.

    ``scope`` (what the title names) and ``short_scope`` (what a file name starts with) default to the grids found
    in the records (``describe_scope``, ``file_scope``). ``rule``: who is eligible for home sampling (the town
    configuration's in force; the default rule when None)."""
    definition = get_definition(name, definitions)
    index = RecordIndex.build(envelopes, today, rule)
    source_rows = _rows(definition, index)
    kept = [row for row in source_rows if all(_matches(row, rule) for rule in definition.filters)]
    for key in reversed(definition.sort):
        descending = key.startswith("-")
        kept.sort(key=_row_key(key.lstrip("-"), descending), reverse=descending)
    rows = [[_cell(row.get(c.field), c, masked) for c in definition.columns] for row in kept]
    return Ledger(
        name=definition.name,
        title=definition.title_zh,
        scope=scope if scope is not None else describe_scope(index),
        today=today,
        masked=masked,
        columns=definition.columns,
        rows=rows,
        title_en=definition.title_en,
        short_scope=short_scope if short_scope is not None else file_scope(index),
    )


def describe_scope(index: RecordIndex) -> str:
    """'town community grid' of the grids in the records, the town alone when there are several."""
    grids = sorted(index.grid_records.values(), key=lambda g: g["grid"])
    if len(grids) == 1:
        return " ".join(p for p in (str(grids[0].get("town") or ""), grid_label(grids[0], " ")) if p)
    towns = sorted({str(g.get("town")) for g in grids if g.get("town")})
    return "、".join(towns) + (f"（{len(grids)}个网格）" if grids else "")


def file_scope(index: RecordIndex) -> str:
    """What a file name says of the records' grids: community and grid name of one grid, else the towns."""
    grids = sorted(index.grid_records.values(), key=lambda g: g["grid"])
    if len(grids) == 1:
        return grid_file_scope(grids[0])
    return "、".join(sorted({str(g.get("town")) for g in grids if g.get("town")}))


def grid_file_scope(grid: Mapping[str, Any]) -> str:
    """``东门社区第一网格``: the community and the grid's name (its id when it has none)."""
    return grid_label(grid, "")


def grid_label(grid: Mapping[str, Any], joiner: str) -> str:
    """The community and the grid's name (its id when it has none), the community once when the name has it."""
    community = str(grid.get("community") or "")
    name = str(grid.get("name") or grid.get("grid") or grid.get("id") or "")
    if community and name.startswith(community):
        return name
    return joiner.join(p for p in (community, name) if p)


def _matches(row: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    if "any" in rule:
        return any(_matches(row, inner) for inner in rule["any"])
    value = row.get(rule["field"])
    if "in" in rule:
        return value in rule["in"]
    if "not_in" in rule:
        return value not in rule["not_in"]
    if "equals" in rule:
        return value == rule["equals"]
    return bool(value) == bool(rule["nonempty"])


def _row_key(field: str, descending: bool) -> Callable[[Mapping[str, Any]], tuple[object, ...]]:
    """The sort key of rows by one field."""
    return lambda row: _sort_key(row.get(field), descending)


def _sort_key(value: object, descending: bool) -> tuple[object, ...]:
    """Empty last either way; numbers by value; text in natural order so building 3 sorts before building 12."""
    if value is None or value == "" or value == []:
        return (descending is False,)
    if isinstance(value, bool | int | float):
        return (descending is True, ((0, value, ""),))
    if isinstance(value, dt.date):  # as its text in town time: an erased label in the same column still compares
        return (descending is True, natural_key(cell_text(value)))
    return (descending is True, natural_key(value))


def _cell(value: object, column: Column, masked: bool) -> Cell:
    if value is None:
        return ""
    if masked:
        kind = masking.mask_kind(column.field, column.mask)
        if kind:
            return masking.mask_value(str(value), kind)
        if column.field in masking.WITHHELD:
            return masking.WITHHELD[column.field]
    cell = _plain_cell(value)
    return masking.mask_numbers_in_text(cell) if masked and isinstance(cell, str) else cell


def _plain_cell(value: object) -> Cell:
    if isinstance(value, bool):
        return labels.YES_NO[value]
    if isinstance(value, int | float | str | dt.date):
        return value
    if isinstance(value, list | tuple | set):
        return "、".join(str(v) for v in value)
    return str(value)


def resident_rows(index: RecordIndex) -> list[dict[str, Any]]:
    """One enriched row per live resident."""
    rows = []
    for resident in index.kind("resident"):
        grid = resident["grid"]
        holder = facts.holder(resident.get("id_number"))
        born = holder.birth_date if holder else None
        groups = index.groups.get(resident["id"], [])
        eligible = index.eligible(resident)
        round_record = index.current_round.get(grid)
        entry = index.round_entry(round_record["id"] if round_record else None, resident["id"])
        status = (entry or {}).get("status")
        erased = index.erased.get((round_record["id"], "sampling")) if round_record else None
        if status is None and round_record is not None and eligible:
            status = "erased" if erased else "left_out"
        followups = sorted(index.followups_by_resident.get(resident["id"], []), key=lambda f: f.get("date") or "")
        last = followups[-1] if followups else {}
        # an attempt that reached nobody (no contact, no temperature) is not the day's check
        reached_today = any(f.get("date") == index.today.isoformat() and followup_reached(f) for f in followups)
        visits = index.visits_by_household.get(resident.get("household") or "", [])
        start = resident.get("isolation_start")
        rows.append(
            {
                **resident,
                **household_fields(index, resident.get("household")),
                "grid_name": index.grid_name(grid),
                "sex": holder.sex if holder else None,
                "sex_zh": labels.label(labels.SEX, holder.sex if holder else None),
                "birth_date": born,
                "age": facts.age_on(born, index.today),
                "residency_zh": labels.label(labels.RESIDENCY, resident.get("residency")),
                "special_groups": groups,
                "special_groups_zh": labels.group_labels(groups),
                "home_sampling": eligible,
                "home_sampling_zh": labels.YES_NO[eligible],
                "isolation_status_zh": labels.label(labels.ISOLATION, resident.get("isolation_status") or "none"),
                "isolation_start": as_date(start),
                "isolation_end": _plus_days(start, resident.get("isolation_days")),
                "round_name": (round_record or {}).get("name"),
                "sampling_status": status,
                "sampling_status_zh": _erased(index, round_record["id"], "sampling")
                if status == "erased" and erased and round_record is not None
                else labels.label(labels.SAMPLING, status),
                "sampling_scheduled_at": short_time((entry or {}).get("scheduled_at")),
                "sampled_at": short_time((entry or {}).get("sampled_at")),
                "sampling_team": (entry or {}).get("team"),
                "sampling_reason": (entry or {}).get("reason"),
                "followup_count": len(followups),
                "followup_today": reached_today,
                "followup_today_zh": labels.YES_NO[reached_today],
                "last_followup_date": as_date(last.get("date")) or _erased(index, resident["id"], "followup"),
                "last_temperature": last.get("temperature"),
                "last_symptoms": labels.SYMPTOMS_JOIN.join(
                    labels.label(labels.SYMPTOMS, k) for k in last.get("symptoms") or []
                ),
                "flagged_count": sum(1 for f in followups if f.get("flagged")),
                "last_visit": max((d for d in (day_of_moment(v.get("visited_at")) for v in visits) if d), default=None),
            }
        )
    return rows


def round_rows(index: RecordIndex) -> list[dict[str, Any]]:
    """One row per sampling round with its coverage of the eligible residents of its grid."""
    rows = []
    for round_record in index.kind("sampling_round"):
        eligible = [r for r in index.kind("resident") if r["grid"] == round_record["grid"] and index.eligible(r)]
        statuses = [(index.round_entry(round_record["id"], r["id"]) or {}).get("status") for r in eligible]
        left_out: int | str = len(index.left_out(round_record))
        counts: dict[str, int | str] = {
            s: statuses.count(s) for s in ("sampled", "exempt", "scheduled", "missed", "refused")
        }
        erased = _erased(index, round_record["id"], "sampling")
        if erased:  # the round's samplings were erased by rule: no count can be told, none is left out
            counts = dict.fromkeys(counts, erased)
            left_out = erased
        rows.append(
            {
                **round_record,
                "grid_name": index.grid_name(round_record["grid"]),
                "round_name": round_record.get("name"),
                "started_at": short_time(round_record.get("started_at")),
                "status_zh": labels.label(labels.ROUND_STATUS, round_record.get("status")),
                "eligible": len(eligible),
                **counts,
                "left_out": left_out,
                "coverage": erased or ((len(eligible) - int(left_out)) / len(eligible) if eligible else "—"),
            }
        )
    return rows


def visit_rows(index: RecordIndex) -> list[dict[str, Any]]:
    """One row per visit, with the household's address and the names of the residents seen."""
    rows = []
    for visit in index.kind("visit"):
        seen = [index.get("resident", rid) for rid in visit.get("residents_seen") or []]
        concerns = []
        for rid, answers in sorted((visit.get("health") or {}).items()):
            signs = [sign for sign, zh in (("fever", "发热"), ("cough", "咳嗽")) if (answers or {}).get(sign)]
            other = (answers or {}).get("other")
            if signs or other:
                who = (index.get("resident", rid) or {}).get("name", "")
                parts = [zh for sign, zh in (("fever", "发热"), ("cough", "咳嗽")) if sign in signs]
                concerns.append(f"{who}:{'、'.join([*parts, *([other] if other else [])])}")
        rows.append(
            {
                **visit,
                **household_fields(index, visit.get("household")),
                "grid_name": index.grid_name(visit["grid"]),
                "visited_at": short_time(visit.get("visited_at")),
                "outcome_zh": labels.label(labels.OUTCOME, visit.get("outcome")),
                "residents_seen": "、".join(r["name"] for r in seen if r and r.get("name")),
                "residents_seen_count": sum(1 for r in seen if r),
                "health_flags": "；".join(concerns) or _erased(index, visit["id"], "visit"),
                "follow_up_zh": labels.YES_NO[bool(visit.get("follow_up"))],
            }
        )
    return rows


def _erased(index: RecordIndex, parent: str, kind: str) -> str | None:
    """``已按规定删除（date）`` where the retention rule erased this round's / resident's / visit's data;
    ``已移出平板（date），存于镇服务器`` where the tablet's retention window let its records go."""
    day = index.erased.get((parent, kind))
    if not day:
        return None
    return retired_label(day) if (parent, kind) in index.retired else erased_label(day)


def _plus_days(start: object, days: object) -> dt.date | None:
    begun = as_date(start)
    if not isinstance(begun, dt.date) or not isinstance(days, int) or isinstance(days, bool):
        return None
    return begun + dt.timedelta(days=days)


def _rows(definition: LedgerDefinition, index: RecordIndex) -> list[dict[str, Any]]:
    """The rows of a ledger's source, each with the definition's ``tags`` it carries (``matched_tags``, in the
    definition's order; ``matched_rank`` the first one's place, to sort by)."""
    source = definition.source
    rows = household_rows(index, definition.tags) if source == "household" else _SOURCES[source](index)
    for row in rows:
        found = set(row.get("tags") or ())
        matched = [tag for tag in definition.tags if tag in found]
        row["matched_tags"] = matched
        row["matched_tags_zh"] = labels.tag_labels(matched)
        row["matched_rank"] = definition.tags.index(matched[0]) if matched else None
    return rows


_SOURCES: dict[str, Callable[[RecordIndex], list[dict[str, Any]]]] = {
    "resident": resident_rows,
    "sampling_round": round_rows,
    "visit": visit_rows,
    "member": member_rows,
    "task": task_rows,
    "campaign_result": campaign_result_rows,
}
