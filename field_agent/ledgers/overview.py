"""The town office's at-a-glance numbers per grid: households checked this round, special-group sampling coverage
and who was left out, isolation follow-ups done today, open conflicts, each device's last sync; and, for one grid
opened, who was left out (masked as every office output is: ``masking``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain.groups import EligibilityRule
from field_agent.domain.isolation import followup_reached
from field_agent.domain.sorting import natural_key
from field_agent.ledgers import labels, masking
from field_agent.ledgers.index import CHINA, RecordIndex, View, parse_when


def _iso_ms(ms: object, zone: dt.tzinfo) -> str | None:
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="seconds")


def device_summary(device: Mapping[str, Any], zone: dt.tzinfo = CHINA) -> dict[str, Any]:
    """A device as the office sees it (no token, no node id); times in ``zone``, the town's."""
    reason = device.get("revoked_reason")
    return {
        "id": device.get("id"),
        "worker": device.get("worker"),
        "role": device.get("role"),
        "name": device.get("name"),
        "last_sync": _iso_ms(device.get("last_sync"), zone),
        "last_seen": _iso_ms(device.get("last_seen"), zone),
        "revoked": device.get("revoked") is not None,
        "revoked_at": _iso_ms(device.get("revoked"), zone),
        "revoked_reason": masking.mask_numbers_in_text(reason) if isinstance(reason, str) and reason else None,
    }


def left_out_rows(index: RecordIndex, round_record: View, left_out: list[View] | None = None) -> list[dict[str, Any]]:
    """Who the round left out (``RecordIndex.left_out``, the ledgers' rule; ``left_out`` when already worked out), by
    address: name, masked ID number, building / unit / room, why they are sampled at home, and this round's entry
    for them if there is one.

    A masked output: no birth date and no age beside the masked number (docs/LEDGERS.md, "Masking").
    """
    rows = []
    for resident in index.left_out(round_record) if left_out is None else left_out:
        household = index.get("household", resident.get("household")) or {}
        reasons = index.home_sampling.get(resident["id"], [])
        status = (index.round_entry(round_record["id"], resident["id"]) or {}).get("status")
        rows.append(
            {
                "resident": resident["id"],
                "name": resident.get("name"),
                "id_number": masking.mask_value(str(resident.get("id_number") or ""), "id_number"),
                "building": household.get("building"),
                "unit": household.get("unit"),
                "room": household.get("room"),
                "reasons": reasons,
                "reasons_zh": labels.reason_labels(reasons),
                "status": status,
                "status_zh": labels.label(labels.SAMPLING, status or "left_out"),
            }
        )
    rows.sort(key=lambda r: tuple(natural_key(r[key] or "") for key in ("building", "unit", "room", "name")))
    return rows


def grid_overview(
    grid: Mapping[str, Any],
    envelopes: Iterable[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]],
    today: dt.date,
    *,
    zone: dt.tzinfo = CHINA,
    detail: bool = False,
    rule: EligibilityRule | None = None,
) -> dict[str, Any]:
    """One grid's row of the overview, computed from its records (deleted ones skipped); times in ``zone`` (the
    town's). With ``detail``, also who was left out (``left_out_rows``)."""
    grid_id = str(grid["id"])
    index = RecordIndex.build(envelopes, today, rule)
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
    row = {
        "grid": grid_id,
        "town": grid.get("town"),
        "community": grid.get("community"),
        "name": grid.get("name"),
        "mode": grid.get("mode"),
        "mode_zh": labels.label(labels.MODE, grid.get("mode")),
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
        "devices": [device_summary(d, zone) for d in devices if d.get("grid") == grid_id],
    }
    if detail:
        row["left_out_residents"] = left_out_rows(index, round_record, left_out) if round_record else []
    return row


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
