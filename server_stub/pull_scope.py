"""What a temporary member's device receives when it pulls (docs/SERVER.md "Temporary members"): the kinds its
work needs, and of the tasks only those assigned to its member. The grid's own staff receive the whole grid.

The filter runs on the pull's pages as read (sequence order): a record left out is passed as (seq, None, None),
like a device's own version (``skip_own``), so the cursor moves past it and ``more`` stays true only while
records this device may see remain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from field_agent.domain.rights import is_temporary
from server_stub.db.base import Database

# what every temporary member needs to find people and do their part: the grid, its households and residents
# (names and addresses to knock on doors; phones to call ahead, read-only), the campaigns and their results,
# the sampling rounds, and the town's settings if they ride as records
_COMMON = frozenset(
    {"grid", "household", "resident", "sampling_round", "campaign", "campaign_result", "task", "config"}
)
PULL_KINDS: dict[str, frozenset[str]] = {
    "cadre": _COMMON | {"visit", "sampling", "followup"},
    "volunteer": _COMMON | {"visit", "sampling"},  # samplings: volunteers arrange the sampling team's home visits
    "sampling_team": _COMMON | {"sampling"},
}
"""Per temporary role, the kinds its device pulls. Left out: follow-ups of people in isolation (temperatures,
symptoms) for volunteers and the sampling team, the visits' health answers for the sampling team."""

Row = tuple[int, bytes | None, dict[str, Any] | None]


def may_see(device: Mapping[str, Any], envelope: Mapping[str, Any]) -> bool:
    """Whether ``device`` receives this record of its grid."""
    role = device["role"]
    if not is_temporary(role):
        return True
    kind = envelope.get("kind")
    if kind not in PULL_KINDS[role]:
        return False
    if kind == "task":
        return (envelope.get("fields") or {}).get("assignee") == device["worker"]
    return True


def scoped_page(db: Database, device: Mapping[str, Any], cursor: int, limit: int, skip_device: str | None) -> list[Row]:
    """``Database.pull_page_with_purged`` for a temporary member's device: up to ``limit`` records and erasure
    markers it may see after ``cursor``, the records it may not see as (seq, None, None) between them. Reads on
    past pages of records it does not see until it has ``limit`` or the grid's end."""
    rows: list[Row] = []
    shown = 0
    after = cursor
    while True:
        page = db.pull_page_with_purged(device["grid"], after, limit, skip_device=skip_device)
        if not page:
            return rows
        counted = 0
        for seq, text, marker in page:
            if text is not None:
                counted += 1
                if not may_see(device, orjson.loads(text)):
                    text = None
            elif marker is not None:
                counted += 1
            if text is not None or marker is not None:
                shown += 1
            rows.append((seq, text, marker))
            if shown == limit:
                return rows
        if counted < limit:  # the grid's end
            return rows
        after = page[-1][0]
