"""A grid's morning round: visits, follow-ups, sampling marks, task updates, household tags and phone numbers, and
a few households two workers edit without seeing each other (the true conflicts the day must produce)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from field_agent.domain.envelope import is_deleted

START = date(2026, 12, 1)


@dataclass
class RoundItem:
    """One save for a device: the JSON the device gets, and how the ledger should treat it."""

    payload: dict[str, Any]
    create: bool
    conflict_group: str | None = None


def _live(records: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return sorted(
        (env for env in records.values() if env["kind"] == kind and not is_deleted(env)), key=lambda env: env["id"]
    )


def morning_round(
    day: int,
    grid_records: dict[str, dict[str, Any]],
    workers: list[tuple[str, str]],
    rng: random.Random,
    conflict_households: int,
    used_for_conflicts: set[str],
) -> dict[str, list[RoundItem]]:
    """Items per slot name for one grid; ``workers`` is ``[(slot name, worker name)]`` in slot order."""
    today = START + timedelta(days=day)
    households = _live(grid_records, "household")
    residents = _live(grid_records, "resident")
    samplings = [env for env in _live(grid_records, "sampling") if env["fields"].get("status") == "scheduled"]
    tasks = [env for env in _live(grid_records, "task") if env["fields"].get("status") in ("open", "in_progress")]
    rounds: dict[str, list[RoundItem]] = {name: [] for name, _ in workers}
    count = len(workers)
    shared = _shared_households(
        day, households, residents, workers, rng, conflict_households, used_for_conflicts, rounds
    )
    households = [env for env in households if env["id"] not in shared] or households
    for position, (name, worker) in enumerate(workers):
        items = rounds[name]
        for visit in range(2):
            household = rng.choice(households)
            outcome = rng.choice(("met", "nobody_home", "refused"))
            values = {
                "household": household["id"],
                "visited_at": f"{today.isoformat()}T{9 + visit + position % 3:02d}:{rng.randrange(60):02d}:00+08:00",
                "worker": worker,
                "outcome": outcome,
                "follow_up": outcome == "refused",
                "notes": f"第{day}天上门 {name}",
            }
            items.append(RoundItem({"kind": "visit", "values": values}, create=True))
        if residents:
            resident = rng.choice(residents)
            values = {
                "resident": resident["id"],
                "date": today.isoformat(),
                "temperature": round(rng.uniform(36.0, 37.8), 1),
                "contact_made": True,
                "by": worker,
            }
            items.append(RoundItem({"kind": "followup", "values": values}, create=True))
        for sampling in samplings[position::count][:2]:
            values = {"status": "sampled", "sampled_at": f"{today.isoformat()}T10:30:00+08:00", "by": worker}
            items.append(RoundItem({"kind": "sampling", "record": sampling["id"], "values": values}, create=False))
        for task in tasks[position::count][:1]:
            status = "done" if task["fields"].get("status") == "in_progress" else "in_progress"
            values = {"status": status, "notes": f"第{day}天 {worker} 更新"}
            sets = {"coverage": {f"{1 + rng.randrange(9)}号楼": True}}
            items.append(RoundItem({"kind": "task", "record": task["id"], "values": values, "sets": sets}, False))
        household = rng.choice(households)
        tag = f"第{day}天走访"
        items.append(
            RoundItem({"kind": "household", "record": household["id"], "sets": {"tags": {tag: True}}}, create=False)
        )
        for household in households[position::count][day % 3 :: 7][:1]:
            items.append(RoundItem({"kind": "household", "record": household["id"], "values": _phone(rng)}, False))
    return rounds


def _phone(rng: random.Random) -> dict[str, str]:
    return {"phone": f"139{rng.randrange(10**8):08d}"}


def _shared_households(
    day: int,
    households: list[dict[str, Any]],
    residents: list[dict[str, Any]],
    workers: list[tuple[str, str]],
    rng: random.Random,
    conflicts: int,
    used: set[str],
    rounds: dict[str, list[RoundItem]],
) -> set[str]:
    """Households several workers touch unseen today: the same note (a value conflict), another field (none),
    and, every other day, one deleted by a worker while another edits it (an edit-vs-delete conflict)."""
    count = len(workers)
    fresh = [env for env in households if env["id"] not in used]
    if count < 2 or not fresh:
        return set()
    picked = rng.sample(fresh, min(conflicts + (day % 2), len(fresh)))
    for number, household in enumerate(picked):
        used.add(household["id"])
        group = f"d{day}/{household['id']}"
        first, second, *others = rng.sample(range(count), min(3, count))
        record = household["id"]
        if number == conflicts:  # the extra household on odd days: deleted by one, edited by another
            name, _ = workers[first]
            for resident in residents:  # a household is deleted only once nobody lives in it (DOMAIN.md)
                if resident["fields"].get("household") == record:
                    item = {"kind": "resident", "record": resident["id"], "delete": True}
                    rounds[name].append(RoundItem(item, False))
            rounds[name].append(RoundItem({"kind": "household", "record": record, "delete": True}, False, group))
            name, worker = workers[second]
            values = {"notes": f"{worker}：第{day}天 住户搬走前还在"}
            rounds[name].append(RoundItem({"kind": "household", "record": record, "values": values}, False, group))
            continue
        for who in (first, second):
            name, worker = workers[who]
            values = {"notes": f"{worker}：第{day}天 该户情况有变"}
            rounds[name].append(RoundItem({"kind": "household", "record": record, "values": values}, False, group))
        for who in others:
            name, _ = workers[who]
            rounds[name].append(RoundItem({"kind": "household", "record": record, "values": _phone(rng)}, False, group))
    return {env["id"] for env in picked}
