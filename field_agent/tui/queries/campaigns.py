"""The grid's active campaigns, their progress and their "nobody left out" lists, read from the store's indexes.

Today lists every active campaign with its progress on unlock, before any read model exists: the targets are
found from the index's projection of each resident and household (the fields target rules read), and the results
from the projection of each ``campaign_result`` (campaign, target, status, time), so that no record is unpacked
for the counts. Only the people a screen lists (the left-out ones) are read in full. What a target is, what a
result counts as and who is left out are the domain's (``field_agent.domain.campaigns``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, DefinitionError, parse_campaign
from field_agent.domain.campaigns.results import Coverage, best_results, coverage, find_targets
from field_agent.domain.sorting import natural_key
from field_agent.store.reader import StoreReader
from field_agent.tui import people
from field_agent.tui.model import short_address


@dataclass(frozen=True)
class ActiveCampaign:
    """A campaign record of the grid and its parsed definition."""

    record_id: str
    record: Mapping[str, Any]
    campaign: Campaign


@dataclass(frozen=True)
class CampaignLine:
    """One campaign's progress, as Today and ``field-agent campaigns list`` show it."""

    record_id: str
    key: str
    name: str
    template: str
    status: str
    starts: str
    ends: str | None
    targets: int
    done: int
    excused: int

    @property
    def covered(self) -> int:
        return self.done + self.excused

    @property
    def left_out(self) -> int:
        return self.targets - self.covered

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "key": self.key,
            "name": self.name,
            "template": self.template,
            "status": self.status,
            "starts": self.starts,
            "ends": self.ends,
            "targets": self.targets,
            "done": self.done,
            "excused": self.excused,
            "left_out": self.left_out,
        }


@dataclass(frozen=True)
class TargetRow:
    """One target on a campaign screen: who (a resident, or a household for a household campaign), where, and
    their best result so far (None: none yet)."""

    target: str
    household: str
    name: str
    address: str
    masked_id: str
    status: str | None
    result: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CampaignDetail:
    active: ActiveCampaign
    line: CampaignLine
    left_out: list[TargetRow] = field(default_factory=list)


def campaigns(reader: StoreReader, today: date | None = None) -> list[ActiveCampaign]:
    """The grid's campaigns whose definition reads (all of them; only the active ones on ``today`` when given:
    status active and between start and end), by start day and key."""
    found = []
    for record in reader.views(reader.live_ids("campaign")):
        try:
            campaign = parse_campaign(record.get("definition"))
        except DefinitionError:
            continue  # a definition this version cannot read: not shown rather than half shown
        if today is not None and (record.get("status") != "active" or not campaign.is_active(today)):
            continue
        found.append(ActiveCampaign(str(record["id"]), record, campaign))
    found.sort(key=lambda item: (item.campaign.starts, item.campaign.key))
    return found


class People:
    """Every live resident and household of the grid as the target rules read them, from the index's projection:
    residents with ``id``, ``household``, ``residency``, ``isolation_status``, ``id_number``, ``tags`` and their
    recorded ``special_groups``; households by id with ``id``, ``building`` and ``tags``."""

    def __init__(self, reader: StoreReader) -> None:
        index = reader.index
        self.households: dict[str, dict[str, Any]] = {
            household_id: {"id": household_id, **fields}
            for household_id, fields in index.projection("household", reader.live_ids("household"))
        }
        self.residents: list[dict[str, Any]] = [
            {"id": resident_id, **fields, "special_groups": index.recorded_groups(resident_id)}
            for resident_id, fields in index.projection("resident", reader.live_ids("resident"))
        ]


def results_of(reader: StoreReader, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's live results (projected: id, campaign, target, status, at)."""
    ids = reader.referencing("campaign_result", "campaign", campaign_id)
    return [{"id": result_id, **fields} for result_id, fields in reader.index.projection("campaign_result", ids)]


def progress(reader: StoreReader, active: ActiveCampaign, grid: People, today: date) -> Coverage:
    """The campaign's coverage of its targets (in the domain's order when the views carry names and addresses)."""
    targets = find_targets(active.campaign, grid.residents, grid.households, today)
    return coverage(active.campaign, targets, results_of(reader, active.record_id))


def line_of(active: ActiveCampaign, cover: Coverage) -> CampaignLine:
    campaign, record = active.campaign, active.record
    return CampaignLine(
        record_id=active.record_id,
        key=campaign.key,
        name=campaign.name,
        template=campaign.template,
        status=str(record.get("status") or ""),
        starts=campaign.starts.isoformat(),
        ends=campaign.ends.isoformat() if campaign.ends else None,
        targets=len(cover.targets),
        done=len(cover.done),
        excused=len(cover.excused),
    )


def campaign_lines(reader: StoreReader, today: date, active_only: bool = True) -> list[CampaignLine]:
    """Each campaign's progress (the active ones on ``today`` unless ``active_only`` is false)."""
    found = campaigns(reader, today if active_only else None)
    if not found:
        return []
    grid = People(reader)
    return [line_of(active, progress(reader, active, grid, today)) for active in found]


def campaign_detail(reader: StoreReader, record_id: str, today: date) -> CampaignDetail | None:
    """One campaign's progress and its left-out targets with names, addresses and masked ID numbers, in household
    address and name order (None when the grid holds no readable campaign of that id)."""
    active = next((item for item in campaigns(reader) if item.record_id == record_id), None)
    if active is None:
        return None
    grid = People(reader)
    cover = progress(reader, active, grid, today)
    best = best_results(active.campaign, reader.views(reader.referencing("campaign_result", "campaign", record_id)))
    rows = target_rows(reader, active.campaign, cover.left_out, best)
    return CampaignDetail(active, line_of(active, cover), rows)


def target_rows(
    reader: StoreReader, campaign: Campaign, ids: Iterable[str], best: Mapping[str, Mapping[str, Any]]
) -> list[TargetRow]:
    """Rows for the targets ``ids`` (read in full: only these), sorted by address, then name."""
    targets = {str(view["id"]): view for view in reader.views(list(ids))}
    households = {str(view["id"]): view for view in reader.views({_household_of(v) for v in targets.values()})}
    community = (reader.grid() or {}).get("community")
    rows = []
    for target_id, target in targets.items():
        household_id = _household_of(target)
        household = households.get(household_id, {})
        is_household = campaign.subject == "household"
        result = best.get(target_id)
        rows.append(
            TargetRow(
                target=target_id,
                household=household_id,
                name=str((household.get("head") if is_household else target.get("name")) or ""),
                address=short_address(household, community) if household else "",
                masked_id="" if is_household else people.shown_id(target.get("id_number"), revealed=False),
                status=str(result.get("status")) if result else None,
                result=result,
            )
        )
    rows.sort(key=lambda row: (natural_key(row.address), row.name, row.target))
    return rows


def _household_of(target: Mapping[str, Any]) -> str:
    """A target's household: a resident's household, or the household itself."""
    return str(target["id"] if target.get("kind") == "household" else target.get("household") or "")
