"""Scheduled home visits (预约上门): a campaign's appointments for one team on one day, as a route per building.

An appointment is a result whose ``team`` and ``scheduled_at`` are set and whose status does not count as done or
excused yet (an entry of a home sampling round with status ``scheduled`` is one). ``day_route`` lists a team's
appointments of a day (in the town's time zone) building by building, in the order a person walks them: buildings,
units and rooms in natural order (``2号楼`` before ``10号楼``), then by the appointed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from field_agent.domain.campaigns.definition import Campaign
from field_agent.domain.sorting import natural_key


@dataclass(frozen=True, slots=True)
class Stop:
    """One appointment on the route: whom, where, when."""

    result: str
    target: str
    household: str
    building: str
    address: str
    at: str


@dataclass(frozen=True, slots=True)
class Building:
    name: str
    stops: tuple[Stop, ...]


def _day(value: object, zone: tzinfo) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo is None else moment.astimezone(zone)).date()


def day_route(
    campaign: Campaign,
    results: Iterable[Mapping[str, Any]],
    households: Mapping[str, Mapping[str, Any]],
    team: str,
    day: date,
    zone: tzinfo,
) -> list[Building]:
    """The team's open appointments on ``day``, grouped by building in walking order."""
    stops: list[tuple[Any, Stop]] = []
    for result in results:
        if result.get("_deleted") or result.get("team") != team or _day(result.get("scheduled_at"), zone) != day:
            continue
        if campaign.counts(result.get("status")) != "open":
            continue  # already done or excused: no need to go
        household = households.get(str(result.get("household"))) or {}
        building = str(household.get("building") or "")
        key = (
            natural_key(building),
            natural_key(str(household.get("unit") or "")),
            natural_key(str(household.get("room") or household.get("address") or "")),
            str(result.get("scheduled_at")),
        )
        stop = Stop(
            str(result.get("id")),
            str(result.get("target")),
            str(result.get("household")),
            building,
            str(household.get("address") or ""),
            str(result.get("scheduled_at")),
        )
        stops.append((key, stop))
    stops.sort(key=lambda item: item[0])
    route: list[Building] = []
    for _, stop in stops:
        if not route or route[-1].name != stop.building:
            route.append(Building(stop.building, ()))
        route[-1] = Building(stop.building, (*route[-1].stops, stop))
    return route
