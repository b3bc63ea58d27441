"""Campaigns run by the town office: created from a definition, sent to the grids it names, closed, and measured.

``create_campaign`` writes one ``campaign`` record into each grid the definition names (every grid when it names
none), stamped by the server's clock like any office write; the tablets of those grids receive it with their next
pull and check it with the same parser. The record's id is derived from the campaign's key and the grid, so the
same campaign in the same grid is always the same record. ``campaign_summaries`` and ``campaign_coverage`` read
the grids' records and work out targets, results and the "nobody left out" list with the domain's code
(``field_agent.domain.campaigns``), the same code the tablet runs; a home sampling round recorded the older way
(``sampling_round``) is listed as a campaign of the ``sampling`` template.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, DefinitionError, Status, parse_campaign
from field_agent.domain.campaigns.results import Coverage, coverage, find_targets
from field_agent.domain.campaigns.rounds import round_campaign, round_results
from field_agent.domain.campaigns.route import day_route
from field_agent.domain.envelope import view
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig
from server_stub.db.base import Database
from server_stub.errors import RequestInvalid
from server_stub.records import Edit, write_records

NAMESPACE = uuid.UUID("6f1b2a52-5c1e-4d0b-9a54-6361a6d5e9c1")


class CampaignError(RequestInvalid):
    """A campaign command that cannot be carried out (unknown key, unknown grid, key taken)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="campaign")


def campaign_record_id(key: str, grid: str) -> str:
    """The id of campaign ``key``'s record in ``grid``: the same on every run, every server."""
    return str(uuid.uuid5(NAMESPACE, f"{key}/{grid}"))


def parse_for_town(data: Any, roles: RoleConfig = DEFAULT_ROLE_CONFIG) -> Campaign:
    """The office's definition, checked with the town's roles and groups (DefinitionError lists every problem)."""
    return parse_campaign(data, role_keys=roles.role_keys, group_keys=roles.group_keys)


def _grids(db: Database, named: Iterable[str]) -> list[dict[str, Any]]:
    grids = db.list_grids()
    named = list(named)
    if not named:
        return grids
    by_id = {g["id"]: g for g in grids}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for g in grids:
        by_name.setdefault(g["name"], []).append(g)
    chosen: list[dict[str, Any]] = []
    for name in named:
        if name in by_id:
            chosen.append(by_id[name])
        elif len(by_name.get(name, [])) == 1:
            chosen.append(by_name[name][0])
        elif name in by_name:
            raise CampaignError(f"grid name {name!r} is not unique: name the grid by its id (field-server grid list)")
        else:
            raise CampaignError(f"no grid {name!r} on this server (field-server grid list shows them)")
    return chosen


def create_campaign(db: Database, campaign: Campaign) -> list[str]:
    """Send ``campaign`` to its grids; returns the grid ids. Refused when its key is already used."""
    if not db.list_grids():
        raise CampaignError("this server has no grids yet: create them first (field-server grid create)")
    grids = _grids(db, campaign.grids)
    if any(db.get_record(campaign_record_id(campaign.key, g["id"])) is not None for g in db.list_grids()):
        raise CampaignError(f"campaign {campaign.key!r} exists already: choose another key, or close it first")
    values = {
        "key": campaign.key,
        "name": campaign.name,
        "template": campaign.template,
        "definition": campaign.to_dict(with_grids=False),
        "status": "active",
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat() if campaign.ends else None,
    }
    values = {name: value for name, value in values.items() if value is not None}
    for grid in grids:
        write_records(db, grid["id"], [Edit("campaign", campaign_record_id(campaign.key, grid["id"]), dict(values))])
    return [grid["id"] for grid in grids]


def close_campaign(db: Database, key: str) -> list[str]:
    """Close campaign ``key`` in every grid holding it; returns those grids (CampaignError when none does)."""
    closed = []
    for grid in db.list_grids():
        record_id = campaign_record_id(key, grid["id"])
        envelope = db.get_record(record_id)
        if envelope is None or envelope["kind"] != "campaign":
            continue
        write_records(db, grid["id"], [Edit("campaign", record_id, {"status": "closed"})])
        closed.append(grid["id"])
    if not closed:
        raise CampaignError(f"no campaign {key!r} on this server (field-server campaign list shows them)")
    return closed


@dataclass
class GridCampaign:
    """One campaign in one grid: its definition, its record's status and its coverage there."""

    grid: Mapping[str, Any]
    campaign: Campaign
    status: str
    coverage: Coverage
    names: Mapping[str, Mapping[str, Any]]
    """The records of the targets (residents or households, flat views), for the left-out list."""


@dataclass
class CampaignSummary:
    key: str
    name: str
    template: str
    status: str
    starts: date
    ends: date | None
    grids: list[GridCampaign]

    @property
    def targets(self) -> int:
        return sum(len(g.coverage.targets) for g in self.grids)

    @property
    def reached(self) -> int:
        return sum(len(g.coverage.done) + len(g.coverage.excused) for g in self.grids)

    @property
    def percent(self) -> float:
        return 100.0 if not self.targets else 100.0 * self.reached / self.targets

    def to_dict(self, *, left_out: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "template": self.template,
            "status": self.status,
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat() if self.ends else None,
            "targets": self.targets,
            "done": sum(len(g.coverage.done) for g in self.grids),
            "excused": sum(len(g.coverage.excused) for g in self.grids),
            "left_out": self.targets - self.reached,
            "percent": round(self.percent, 1),
            "grids": [],
        }
        for item in self.grids:
            cover = item.coverage
            entry: dict[str, Any] = {
                "grid": item.grid["id"],
                "name": item.grid["name"],
                "status": item.status,
                "targets": len(cover.targets),
                "done": len(cover.done),
                "excused": len(cover.excused),
                "left_out": len(cover.left_out),
                "percent": round(cover.percent, 1),
            }
            if left_out:
                entry["left_out_people"] = [
                    _who(item.names.get(t, {}), t, item.campaign.status(cover.statuses.get(t))) for t in cover.left_out
                ]
            data["grids"].append(entry)
        return data


def _who(record: Mapping[str, Any], record_id: str, status: Status | None) -> dict[str, Any]:
    """A left-out target as the office lists it: name (or household head), address and the open status recorded
    (None when nobody has been yet), never an ID number."""
    return {
        "id": record_id,
        "name": record.get("name") or record.get("head") or "",
        "address": record.get("address") or "",
        "status": status.key if status else None,
        "status_label": status.label if status else None,
    }


@dataclass
class _InGrid:
    """One campaign as one grid holds it: the grid's live residents and households, and the campaign's results."""

    grid: Mapping[str, Any]
    campaign: Campaign
    status: str
    results: list[dict[str, Any]]
    residents: list[dict[str, Any]]
    households: dict[str, dict[str, Any]]


def _in_grids(db: Database, *, town: str | None, key: str | None, day: date | None = None) -> Iterator[_InGrid]:
    """Every campaign of every live grid (of ``town``; only ``key``), sampling rounds read as campaigns (with the
    town's home-sampling rule in force on ``day``)."""
    from server_stub.town_config import in_force

    rule = in_force(db, day).eligibility
    for grid in db.list_grids():
        if grid.get("deleted") or (town is not None and grid.get("town") != town):
            continue
        records = [view(envelope) for envelope in db.iter_records(grid["id"])]
        live = [r for r in records if not r.get("_deleted")]
        residents = [r for r in live if r["kind"] == "resident"]
        households = {r["id"]: r for r in live if r["kind"] == "household"}
        results: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            if record["kind"] == "campaign_result":
                results.setdefault(str(record.get("campaign")), []).append(record)
        samplings = [r for r in records if r["kind"] == "sampling"]
        for record in live:
            if record["kind"] == "campaign":
                try:
                    campaign = parse_campaign(record.get("definition"))
                except DefinitionError:
                    continue
                status, entries = str(record.get("status")), results.get(record["id"], [])
            elif record["kind"] == "sampling_round":
                campaign = round_campaign(record, rule)
                status = "active" if record.get("status") == "open" else "closed"
                entries = round_results(samplings, record["id"])
            else:
                continue
            if key is None or campaign.key == key:
                yield _InGrid(grid, campaign, status, entries, residents, households)


def campaign_summaries(
    db: Database, today: date, key: str | None = None, *, town: str | None = None
) -> list[CampaignSummary]:
    """Every campaign on the server (or only ``key``; only the grids of ``town``), with its coverage in each grid,
    in start order."""
    found: dict[str, CampaignSummary] = {}
    for item in _in_grids(db, town=town, key=key, day=today):
        campaign, status = item.campaign, item.status
        targets = find_targets(campaign, item.residents, item.households, today)
        cover = coverage(campaign, targets, item.results)  # only targets count, whoever else was served
        names = item.households if campaign.subject == "household" else _people(item.residents, item.households)
        summary = found.get(campaign.key)
        if summary is None:
            summary = found[campaign.key] = CampaignSummary(
                campaign.key, campaign.name, campaign.template, status, campaign.starts, campaign.ends, []
            )
        elif status == "active":
            summary.status = "active"
        summary.grids.append(GridCampaign(item.grid, campaign, status, cover, names))
    return sorted(found.values(), key=lambda s: (s.starts, s.key))


def team_route(db: Database, key: str, team: str, day: date, zone: tzinfo) -> list[dict[str, Any]]:
    """A team's appointments of campaign ``key`` on ``day``, per grid and building in walking order (names and
    addresses, never ID numbers)."""
    grids = []
    for item in _in_grids(db, town=None, key=key, day=day):
        people = _people(item.residents, item.households)
        route = day_route(item.campaign, item.results, item.households, team, day, zone)
        if not route:
            continue
        buildings = []
        for building in route:
            stops = []
            for stop in building.stops:
                who = people.get(stop.target) or {"name": (item.households.get(stop.target) or {}).get("head")}
                stops.append({"name": who.get("name") or "", "address": stop.address, "at": stop.at})
            buildings.append({"building": building.name, "stops": stops})
        grids.append({"grid": item.grid["id"], "name": item.grid["name"], "buildings": buildings})
    return grids


def campaign_rows(
    db: Database, today: date, *, town: str | None = None, key: str | None = None
) -> list[dict[str, Any]]:
    """The campaigns as the office page and its JSON list them: totals, coverage per grid, the template's label,
    and (for one ``key``) the names of whoever is left out."""
    from field_agent.domain.campaigns.templates import TEMPLATES

    rows = []
    for summary in campaign_summaries(db, today, key, town=town):
        data = summary.to_dict(left_out=key is not None)
        data["template_label"] = TEMPLATES.get(summary.template, {}).get("label", summary.template)
        rows.append(data)
    return rows


def _people(residents: list[dict[str, Any]], households: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: {"name": r.get("name"), "address": (households.get(str(r.get("household"))) or {}).get("address")}
        for r in residents
    }
