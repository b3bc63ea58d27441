"""The Today screen's numbers: round progress, sampling coverage, isolation checks, my tasks, sync state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from field_agent.tui.model import GridModel
from field_agent.tui.queries.isolation import isolation_rows
from field_agent.tui.queries.rounds import counts_as_checked, round_start
from field_agent.tui.queries.sampling import coverage_counts

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

    @property
    def sampling_missing(self) -> int:
        return self.sampling_eligible - self.sampling_done


def today_summary(
    model: GridModel, today: date, now: datetime, worker: str, sync_state: dict[str, Any]
) -> TodaySummary:
    today_text = today.isoformat()
    since = round_start(model, today)
    visited_today: set[str] = set()
    visited_round: set[str] = set()
    for visit in model.of_kind("visit").values():
        if not counts_as_checked(visit):
            continue
        day = (visit.get("visited_at") or "")[:10]
        if day == today_text:
            visited_today.add(visit.get("household"))
        if day >= since:
            visited_round.add(visit.get("household"))
    households = model.of_kind("household")
    round_, eligible_count, done_count = coverage_counts(model, today)
    isolation = isolation_rows(model, today, default_days=14)
    due = [row for row in isolation if row.due_today]
    my_tasks = sorted(
        (
            task
            for task in model.of_kind("task").values()
            if task.get("assignee") == worker
            and task.get("status") in ("open", "in_progress")
            and (task.get("due") or today_text) <= today_text
        ),
        key=lambda t: (t.get("due") or "", t.get("title") or ""),
    )
    last_sync = sync_state.get("last_sync")
    grid = model.grid or {}
    return TodaySummary(
        grid_name=str(grid.get("name") or ""),
        worker=worker,
        mode=str(grid.get("mode") or "normal"),
        households_total=len(households),
        checked_today=len(visited_today & households.keys()),
        checked_round=len(visited_round & households.keys()),
        round_name=round_.get("name") if round_ else None,
        sampling_done=done_count,
        sampling_eligible=eligible_count,
        isolation_due=len(due),
        isolation_checked=sum(1 for row in due if row.checked_today),
        my_tasks=my_tasks,
        pending=int(sync_state.get("pending") or 0),
        conflicts=int(sync_state.get("conflicts") or 0),
        last_sync=last_sync,
        stale=is_stale(last_sync, now),
        flagged_today=sum(1 for row in due if row.flagged_today),
    )


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
