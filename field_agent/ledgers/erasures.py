"""What the ledgers say where data was erased under the town's retention rule (PIPL Art. 47).

An erased sampling, follow-up or visit's health answers would otherwise read as a resident left out or never
followed up. The server's erasure markers and the tablet's own record of them (``meta["erasures"]``) become *notes*,
one per round, resident or visit whose data was erased: pseudo-records of kind ``erasure_note`` passed to the
ledgers with the envelopes (never stored, never synced, no value of what was erased). The ledgers then show
``已按规定删除（date）`` instead of a count, a status or an empty cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

NOTE_KIND = "erasure_note"
CHINA = dt.timezone(dt.timedelta(hours=8))


def erased_label(day: str) -> str:
    return f"已按规定删除（{day}）"


def retired_label(day: str) -> str:
    """Records of finished work that left the tablet under the town's window (field_agent/store/retention.py):
    not erased, kept on the town server."""
    return f"已移出平板（{day}），存于镇服务器"


def _day(purged_ms: int, zone: dt.tzinfo = CHINA) -> str:
    return dt.datetime.fromtimestamp(purged_ms / 1000, zone).date().isoformat()


def _note(grid: str, parent: str, kind: str, purged_ms: int, zone: dt.tzinfo = CHINA) -> dict[str, Any]:
    return {
        "id": f"erasure:{kind}:{parent}",
        "kind": NOTE_KIND,
        "grid": grid,
        "fields": {"parent": parent, "erased_kind": kind, "on": _day(purged_ms, zone)},
        "stamps": {},
        "sets": {},
        "conflicts": {},
    }


def notes_from_markers(markers: Iterable[Mapping[str, Any]], zone: dt.tzinfo = CHINA) -> list[dict[str, Any]]:
    """One note per (round / resident / visit, kind) from the server's erasure markers, the latest date (the day
    in ``zone``: the town's, China Standard Time unless the server is told otherwise)."""
    latest: dict[tuple[str, str, str], int] = {}
    for marker in markers:
        parent = marker.get("parent")
        if isinstance(parent, str):
            key = (str(marker["grid"]), parent, str(marker["kind"]))
            latest[key] = max(latest.get(key, 0), int(marker["purged_ms"]))
    return [_note(grid, parent, kind, ms, zone) for (grid, parent, kind), ms in sorted(latest.items())]


def notes_from_retired(retired: Mapping[str, Any] | None, grid: str | None) -> list[dict[str, Any]]:
    """Notes of the rounds' samplings and residents' follow-ups that left the tablet (``meta["retired"]``), marked
    ``retired`` so that the ledgers say "moved off the tablet", not "erased" or "left out"."""
    if not retired or not grid:
        return []
    notes = []
    for parent, kinds in sorted((retired.get("parents") or {}).items()):
        for kind, ms in sorted(kinds.items()):
            note = _note(grid, parent, kind, int(ms))
            note["id"] = f"retired:{kind}:{parent}"
            note["fields"]["retired"] = True
            notes.append(note)
    return notes


def notes_from_store(erasures: Mapping[str, Any] | None, grid: str | None) -> list[dict[str, Any]]:
    """The notes a tablet keeps of the erasures it applied (``field_agent/store/erasure.py``)."""
    if not erasures or not grid:
        return []
    return [
        _note(grid, parent, kind, int(ms))
        for parent, kinds in sorted((erasures.get("parents") or {}).items())
        for kind, ms in sorted(kinds.items())
    ]
