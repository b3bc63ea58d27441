"""The Today screen's numbers: round progress, sampling coverage, isolation checks, my tasks, sync state (the active
campaigns' progress is worked out after them: ``queries.campaigns.campaign_lines``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from field_agent.domain.enums import OPEN_TASK_STATUSES, SAMPLING_DONE_STATUSES
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule
from field_agent.domain.isolation import DEFAULT_ISOLATION_DAYS, followup_reached
from field_agent.domain.sorting import natural_key
from field_agent.store.reader import StoreReader
from field_agent.tui import people
from field_agent.tui.queries.isolation import isolation_day
from field_agent.tui.queries.rounds import CHECKED_OUTCOMES, latest_open_round, started_on

STALE_AFTER_HOURS = 24


@dataclass(frozen=True)
class TodaySummary:
    grid_name: str
    worker: str
    mode: str
    households_total: int
    checked_today: int
    checked_round: int
    round_name: str | None
    sampling_done: int
    sampling_eligible: int
    isolation_due: int
    isolation_checked: int
    my_tasks: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    conflicts: int = 0
    last_sync: str | None = None
    stale: bool = False
    flagged_today: int = 0
    role: str = ""  # the device's role; a temporary member's comes with their last day (``until``)
    until: str | None = None

    @property
    def sampling_missing(self) -> int:
        return self.sampling_eligible - self.sampling_done


def today_summary(
    reader: StoreReader,
    today: date,
    now: datetime,
    worker: str,
    sync_state: dict[str, Any],
    isolation_days: int = DEFAULT_ISOLATION_DAYS,
    rule: EligibilityRule = DEFAULT_ELIGIBILITY,
) -> TodaySummary:
    """Today's numbers read from the store's indexes: no read model needed, so Today shows right after unlock.
    ``rule``: who is eligible for home sampling (the town configuration's in force, ``Session.eligibility``)."""
    today_text = today.isoformat()
    households = reader.live_ids("household")
    round_ = latest_open_round(reader.views(reader.live_ids("sampling_round")))
    since = started_on(round_, today)
    visited_today: set[str] = set()
    visited_round: set[str] = set()
    for _id, fields in reader.index.projection("visit", reader.live_ids("visit")):
        household = fields.get("household")
        if household is None or fields.get("outcome") not in CHECKED_OUTCOMES:
            continue
        day = (fields.get("visited_at") or "")[:10]
        if day == today_text:
            visited_today.add(household)
        if day >= since:
            visited_round.add(household)
    done_residents = _done_in_round(reader, round_["id"] if round_ else None)
    eligible_count = done_count = 0
    isolated: list[tuple[str, Mapping[str, Any]]] = []
    index, is_eligible = reader.index, people.projected_eligibility(today, rule)
    # ~30,000 residents in a big grid, 100,000 after a town's roster: read from the index's projection of each
    # resident (no record unpacked), kept tight on purpose
    for resident_id, fields in index.projection("resident", reader.live_ids("resident")):
        if fields["isolation_status"] == "home":
            isolated.append((resident_id, fields))
        if is_eligible(fields, index.recorded_groups(resident_id)):
            eligible_count += 1
            done_count += resident_id in done_residents
    due = checked = flagged = 0
    for resident_id, resident in isolated:
        day = isolation_day(resident.get("isolation_start"), today)
        if not 1 <= day <= int(resident.get("isolation_days") or isolation_days):
            continue
        due += 1
        todays = [f for _, f, _ in reader.fields(reader.referencing("followup", "resident", resident_id))]
        todays = [f for f in todays if f.get("date") == today_text]
        checked += any(followup_reached(f) for f in todays)
        flagged += any(f.get("flagged") for f in todays)
    my_tasks = sorted(
        (
            task
            for task in reader.views(reader.referencing("task", "assignee", worker) if worker else set())
            if task.get("status") in OPEN_TASK_STATUSES and (task.get("due") or today_text) <= today_text
        ),
        key=lambda t: (t.get("due") or "", natural_key(t.get("title"))),
    )
    last_sync = sync_state.get("last_sync")
    grid = reader.grid() or {}
    return TodaySummary(
        grid_name=str(grid.get("name") or ""),
        worker=worker,
        mode=str(grid.get("mode") or "normal"),
        households_total=len(households),
        checked_today=len(visited_today & households),
        checked_round=len(visited_round & households),
        round_name=round_.get("name") if round_ else None,
        sampling_done=done_count,
        sampling_eligible=eligible_count,
        isolation_due=due,
        isolation_checked=checked,
        my_tasks=my_tasks,
        pending=int(sync_state.get("pending") or 0),
        conflicts=int(sync_state.get("conflicts") or 0),
        last_sync=last_sync,
        stale=is_stale(last_sync, now),
        flagged_today=flagged,
    )


def _done_in_round(reader: StoreReader, round_id: str | None) -> set[str]:
    """Residents whose latest entry in the round is sampled or exempt."""
    if round_id is None:
        return set()
    latest: dict[str, tuple[str, Any]] = {}
    for sampling_id, fields in reader.index.projection("sampling", reader.referencing("sampling", "round", round_id)):
        resident = fields.get("resident")
        if resident is None:
            continue
        if resident not in latest or sampling_id > latest[resident][0]:
            latest[resident] = (sampling_id, fields.get("status"))
    return {resident for resident, (_, status) in latest.items() if status in SAMPLING_DONE_STATUSES}


def is_stale(last_sync: str | None, now: datetime) -> bool:
    """True when the store never synced or last synced more than a day ago."""
    if not last_sync:
        return True
    try:
        when = datetime.fromisoformat(last_sync)
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    return (now - when).total_seconds() > STALE_AFTER_HOURS * 3600
