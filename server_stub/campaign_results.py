"""A pushed campaign result is checked against its campaign, as the tablet checked it before saving.

The result's own fields pass ``validate_record`` like any record's; this adds what needs other records: the
campaign it names (in the device's grid), the kind of its target, and its status, reason and answers against the
campaign's form (``field_agent.domain.campaigns.results.check_result_record``). The records a batch's results name
are read once, before the plan; a campaign or target the same batch creates is taken from the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain.campaigns.results import check_result_record
from field_agent.domain.envelope import view
from field_agent.domain.errors import ValidationError
from field_agent.domain.validation import merged_view
from server_stub.db.base import Database


def _named(changes: Iterable[Mapping[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for change in changes:
        if change["kind"] != "campaign_result":
            continue
        for name in ("campaign", "target"):
            write = change["fields"].get(name)
            if write is not None and isinstance(write.get("value"), str):
                ids.add(write["value"])
    return ids


class ResultCheck:
    """For one push batch: the problems of each campaign result change, as a ``ValidationError``."""

    def __init__(self, db: Database, grid: str, changes: Iterable[Mapping[str, Any]]) -> None:
        self._grid = grid
        named = _named(changes)
        self._records = {rid: envelope for rid, (_, envelope) in db.read_versions(list(named)).items()} if named else {}

    def _view(self, record_id: object, working: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
        envelope = working.get(str(record_id)) or self._records.get(str(record_id))
        if envelope is None or envelope["grid"] != self._grid:
            return None  # another grid's record is as good as none: the answer names neither
        return view(envelope)

    def check(
        self, change: Mapping[str, Any], current: Mapping[str, Any] | None, working: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Raise ValidationError when a campaign result change breaks its campaign's rules."""
        if change["kind"] != "campaign_result" or change["fields"].get("_deleted", {}).get("value") is True:
            return
        values = {name: write["value"] for name, write in change["fields"].items()}
        result = merged_view("campaign_result", values, view(current) if current is not None else None)
        target = self._view(result.get("target"), working)
        errors = check_result_record(
            self._view(result.get("campaign"), working), result, target["kind"] if target is not None else None
        )
        if errors:
            raise ValidationError(errors, kind="campaign_result")
