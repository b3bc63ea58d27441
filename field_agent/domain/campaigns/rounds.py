"""A home sampling round, as the app recorded it before campaigns, read as a campaign of the ``sampling`` template.

Rounds and their entries stay the records they are (``sampling_round``, ``sampling``): tablets that have not been
updated, and tablets offline for weeks, keep pushing them, and the server keeps accepting them. What moves onto
the campaign mechanism is everything worked out from them: the round's targets (the town's eligibility rule as a
target rule), its progress and its "nobody left out" list come from ``campaigns.results`` like any campaign's.
``round_campaign`` gives the definition of a round and ``round_results`` its entries as results (same status keys;
the sampling time as an answer, team and appointment time as the result's appointment fields). docs/DECISIONS.md
says why the records are not rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from field_agent.domain.campaigns.definition import Campaign
from field_agent.domain.campaigns.templates import sampling_definition
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule

ROUND_KEY_PREFIX = "round-"


def round_key(round_id: str) -> str:
    """The campaign key a round is known by (its record id, lower-case)."""
    return ROUND_KEY_PREFIX + round_id.lower().replace("-", "")[:34]


def round_campaign(round_view: Mapping[str, Any], rule: EligibilityRule = DEFAULT_ELIGIBILITY) -> Campaign:
    """The round as a campaign: its name, its start day, the town's eligibility as its target."""
    started = str(round_view.get("started_at") or "")
    try:
        starts = datetime.fromisoformat(started).date()
    except ValueError:
        starts = date(2000, 1, 1)
    name = str(round_view.get("name") or "核酸上门采样")[:100]
    return sampling_definition(round_key(str(round_view["id"])), name, starts, rule)


def round_results(samplings: Iterable[Mapping[str, Any]], round_id: str) -> list[dict[str, Any]]:
    """The round's entries as campaign results (flat views), deleted ones included as deleted."""
    results = []
    for entry in samplings:
        if entry.get("round") != round_id:
            continue
        answers = {"sampled_at": entry["sampled_at"]} if entry.get("sampled_at") else {}
        results.append(
            {
                "id": entry.get("id"),
                "campaign": round_id,
                "target": entry.get("resident"),
                "household": entry.get("household"),
                "status": entry.get("status"),
                "reason": entry.get("reason"),
                "answers": answers,
                "at": entry.get("sampled_at") or entry.get("scheduled_at"),
                "by": entry.get("by"),
                "team": entry.get("team"),
                "scheduled_at": entry.get("scheduled_at"),
                "_deleted": bool(entry.get("_deleted")),
            }
        )
    return results
