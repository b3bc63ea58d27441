"""Push: check each change against the device's rights and the domain rules, merge it, and store the answer.

The whole batch, its records' new sequence numbers and the stored answer commit in one transaction under the
grid's lock, so concurrent pushes to one grid are serialised and a retried batch is answered, never re-applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.domain.envelope import change_stamps, view
from field_agent.domain.hlc import StampError, check_not_future, stamp_node, wall_ms
from field_agent.sync.merge import MergeRefused, apply_change
from field_agent.sync.protocol import Change, ChangeResult, PushRequest, PushResponse
from server_stub.config import Settings
from server_stub.db.base import Database
from server_stub.db.sql import RecordRaced

try:  # the domain rules; the server still enforces rights and limits when they are absent
    from field_agent.domain.errors import ValidationError
    from field_agent.domain.schema import SCHEMAS
    from field_agent.domain.validation import validate_record
except ImportError:  # pragma: no cover - only in a tree without the domain package
    validate_record = None  # type: ignore[assignment]
    SCHEMAS = {}

LEADER_ONLY_FIELDS = frozenset({"members", "mode", "leader"})
RACE_RETRIES = 3


class Refusal(Exception):
    """One change the server will not apply; the batch goes on without it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def push(db: Database, device: Mapping[str, Any], request: PushRequest, settings: Settings) -> PushResponse:
    """Apply a device's batch (or answer a repeated one from its stored result)."""
    for attempt in range(RACE_RETRIES):
        try:
            return _push_once(db, device, request, settings)
        except RecordRaced:
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _push_once(db: Database, device: Mapping[str, Any], request: PushRequest, settings: Settings) -> PushResponse:
    grid = device["grid"]
    with db.transaction(grid) as tx:
        stored = tx.get_batch(device["id"], request.batch_id)
        if stored is not None:
            replay = PushResponse.model_validate_json(stored)
            replay.replayed = True
            return replay
        now = wall_ms()
        working = tx.get_records(change.record for change in request.changes)
        touched: dict[str, dict[str, Any]] = {}
        results = []
        bodies = request.model_dump(include={"changes"})["changes"]
        for change, body in zip(request.changes, bodies, strict=True):
            try:
                current = working.get(change.record)
                check_change(device, change, body, current, settings, now)
                merged, outcome = apply_change(current, body)
            except Refusal as refusal:
                results.append(
                    ChangeResult(record=change.record, status="refused", code=refusal.code, reason=refusal.reason)
                )
                continue
            except MergeRefused as error:
                results.append(
                    ChangeResult(record=change.record, status="refused", code="record_mismatch", reason=str(error))
                )
                continue
            working[change.record] = merged
            touched.pop(change.record, None)  # re-inserted so the record's sequence follows its last change
            touched[change.record] = merged
            results.append(ChangeResult(record=change.record, status=outcome.status, conflicts=list(outcome.conflicts)))
        tx.put_records(grid, touched.values())
        response = PushResponse(batch_id=request.batch_id, results=results)
        tx.save_batch(device["id"], request.batch_id, response.model_dump_json(), now)
        tx.mark_synced(device["id"], now)
    return response


def check_change(
    device: Mapping[str, Any],
    change: Change,
    body: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    settings: Settings,
    now_ms: int,
) -> None:
    """Raise Refusal when this device may not make this change."""
    if change.grid != device["grid"]:
        raise Refusal("wrong_grid", f"this device syncs grid {device['grid']}; the change is for grid {change.grid}")
    if current is not None and (current["kind"] != change.kind or current["grid"] != change.grid):
        raise Refusal(
            "record_mismatch",
            f"record {change.record} is a {current['kind']} of another grid or kind; "
            f"the change says {change.kind} of grid {change.grid}",
        )
    if change.kind == "grid" and change.record != change.grid:
        raise Refusal("grid_record_id", f"a grid record's id must be its grid ({change.grid}), not {change.record}")
    stamps = change_stamps(body)
    foreign = sorted({stamp_node(stamp) for stamp in stamps} - {device["node_id"]})
    if foreign:
        raise Refusal(
            "foreign_stamp",
            f"the change carries stamps of node {foreign[0]}; this device may stamp only as {device['node_id']}",
        )
    latest = max(stamps, default=None)  # fixed-width stamps: the greatest string is the latest time
    if latest is not None and int(latest[:15]) - now_ms > settings.max_future_ms:
        try:
            check_not_future(latest, now_ms, settings.max_future_ms)
        except StampError as error:
            raise Refusal("stamp_in_future", str(error)) from error
    if change.kind == "grid" and device["role"] != "leader":
        touched = LEADER_ONLY_FIELDS & (set(change.fields) | set(change.sets))
        if touched:
            raise Refusal(
                "leader_only",
                f"only the grid leader's device may change {', '.join(sorted(touched))} of the grid",
            )
    _validate(change, current)


def _validate(change: Change, current: Mapping[str, Any] | None) -> None:
    if validate_record is None or change.kind not in SCHEMAS:
        return
    values: dict[str, Any] = {name: write.value for name, write in change.fields.items()}
    for name, elements in change.sets.items():
        values[name] = {element: write.present for element, write in elements.items()}
    if not values:
        return
    try:
        validate_record(change.kind, values, view(current) if current is not None else None)
    except ValidationError as error:
        raise Refusal("invalid_record", str(error)) from error
