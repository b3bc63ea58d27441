"""The town office's at-a-glance numbers per grid: households checked this round, special-group sampling coverage
and who was left out, isolation follow-ups done today, open conflicts, each device's last sync."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain.isolation import followup_reached
from field_agent.ledgers.index import CHINA, RecordIndex, parse_when


def _iso_ms(ms: object) -> str | None:
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).isoformat(timespec="seconds")


def device_summary(device: Mapping[str, Any]) -> dict[str, Any]:
    """A device as the office sees it (no token, no node id)."""
    return {
        "id": device.get("id"),
        "worker": device.get("worker"),
        "role": device.get("role"),
        "name": device.get("name"),
        "last_sync": _iso_ms(device.get("last_sync")),
        "last_seen": _iso_ms(device.get("last_seen")),
        "revoked": device.get("revoked") is not None,
    }


def grid_overview(
    grid: Mapping[str, Any],
    envelopes: Iterable[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]],
    today: dt.date,
) -> dict[str, Any]:
    """One grid's row of the overview, computed from its records (deleted ones skipped)."""
    grid_id = str(grid["id"])
    index = RecordIndex.build(envelopes, today)
    round_record = index.current_round.get(grid_id)
    households = [h for h in index.kind("household") if h["grid"] == grid_id]
    residents = [r for r in index.kind("resident") if r["grid"] == grid_id]
    eligible = [r for r in residents if index.eligible(r)]
    left_out = index.left_out(round_record) if round_record else []
    since = parse_when(round_record.get("started_at")) if round_record else None
    checked = index.households_checked_since(grid_id, since) if round_record else set()
    isolated = [r for r in residents if r.get("isolation_status") == "home"]
    followed_today = {
        f.get("resident")
        for f in index.kind("followup")
        if f["grid"] == grid_id and f.get("date") == today.isoformat() and followup_reached(f)
    }
    done = len(eligible) - len(left_out) if round_record else 0
    # the round's samplings erased by the retention rule: its coverage can no longer be told (not "nobody left out")
    erased = index.erased.get((round_record["id"], "sampling")) if round_record else None
    return {
        "grid": grid_id,
        "town": grid.get("town"),
        "community": grid.get("community"),
        "name": grid.get("name"),
        "mode": grid.get("mode"),
        "leader": grid.get("leader"),
        "round": None
        if round_record is None
        else {
            "name": round_record.get("name"),
            "started_at": round_record.get("started_at"),
            "status": round_record.get("status"),
        },
        "households": len(households),
        "households_checked": len(checked),
        "eligible": len(eligible),
        "sampled_or_exempt": done,
        "left_out": len(left_out),
        "coverage": round(done / len(eligible), 4) if eligible and round_record and not erased else None,
        "sampling_erased": erased,
        "in_isolation": len(isolated),
        "followups_today": len({r["id"] for r in isolated} & followed_today),
        "open_conflicts": index.open_conflicts.get(grid_id, 0),
        "devices": [device_summary(d) for d in devices if d.get("grid") == grid_id],
    }


def town_totals(grids: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums over the grids shown."""
    keys = (
        "households",
        "households_checked",
        "eligible",
        "sampled_or_exempt",
        "left_out",
        "in_isolation",
        "followups_today",
        "open_conflicts",
    )
    totals: dict[str, Any] = {key: sum(g[key] for g in grids) for key in keys}
    totals["coverage"] = round(totals["sampled_or_exempt"] / totals["eligible"], 4) if totals["eligible"] else None
    totals["grids"] = len(grids)
    return totals
