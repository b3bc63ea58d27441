"""Rows of the supplies ledger (物资台账): one per result of a campaign, with what was handed over and to whom.

Campaigns are records of kind ``campaign`` (``name``, ``template``, ``status``, ``starts``, ``ends``) and their
results ``campaign_result`` (``campaign``, ``target``, ``household``, ``status``, ``reason``, ``answers``, ``at``,
``by``); a supplies campaign's answers are ``item``, ``quantity`` and ``received_by`` (docs/LEDGERS.md). A store
with no campaign yet gives no rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.ledgers import labels
from field_agent.ledgers.index import RecordIndex
from field_agent.ledgers.row_values import household_fields, short_time


def campaign_result_rows(index: RecordIndex) -> list[dict[str, Any]]:
    """One row per live campaign result, with its campaign's name and template and its household's address."""
    rows = []
    for result in index.kind("campaign_result"):
        campaign = index.get("campaign", result.get("campaign")) or {}
        raw = result.get("answers")
        answers: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        target = index.get("resident", result.get("target"))
        household = result.get("household") or (target or {}).get("household") or result.get("target")
        quantity = answers.get("quantity")
        rows.append(
            {
                **result,
                **household_fields(index, household),
                "grid_name": index.grid_name(result["grid"]),
                "campaign_name": campaign.get("name"),
                "template": campaign.get("template"),
                "target_name": (target or {}).get("name"),
                "item": answers.get("item"),
                "quantity": int(quantity) if isinstance(quantity, float) and quantity.is_integer() else quantity,
                "received_by": answers.get("received_by"),
                "given_by": result.get("by"),
                "given_at": short_time(result.get("at")),
                "status_zh": labels.label(labels.RESULT_STATUS, result.get("status")),
            }
        )
    return rows
