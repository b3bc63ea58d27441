"""Push: check each change against the device's rights and the domain rules, merge it, and store the answer.

The whole batch, its records' new sequence numbers and the stored answer commit in one transaction under the
grid's lock, so concurrent pushes to one grid are serialised and a retried batch is answered, never re-applied.
Changes arrive as plain dicts (``server_stub.push_body``) and the answer leaves as JSON bytes: on a batch of new
records the merge, the validation and the database are the work, not (de)serialising models. The batch is planned
before the lock is taken and re-planned under it only when one of its records moved (``_push_once``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from field_agent.domain.envelope import DELETED, view
from field_agent.domain.hlc import StampError, check_not_future, wall_ms
from field_agent.domain.rights import (
    AUTHOR_FIELDS,
    AUTHORS_FOR_OTHERS,
    FREE_WRITERS,
    RIGHTS,
    conflict_field,
    is_temporary,
)
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig
from field_agent.protocol.merge import MergeRefused, apply_change
from server_stub.campaign_results import ResultCheck
from server_stub.config import Settings
from server_stub.db.base import Database
from server_stub.db.sql import RecordRaced
from server_stub.households import HOME_REFUSAL_CODE as HOME_REFUSAL
from server_stub.households import REFUSAL_CODE as HOUSEHOLD_REFUSAL
from server_stub.households import HouseholdGuard
from server_stub.sealing import Sealer
from server_stub.town_config import in_force

try:  # the domain rules; the server still enforces rights and limits when they are absent
    from field_agent.domain.errors import ValidationError
    from field_agent.domain.validation import validate_record
except ImportError:  # pragma: no cover - only in a tree without the domain package
    validate_record = None  # type: ignore[assignment]

RACE_RETRIES = 3
# one answer for a record id this device may not use, whether it belongs to another grid or is of another kind:
# it names neither, so a tablet learns nothing about other grids' records
RECORD_MISMATCH = "this record id cannot be used for this change: save the record again as a new record"


class Refusal(Exception):
    """One change the server will not apply; the batch goes on without it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def push(
    db: Database,
    device: Mapping[str, Any],
    batch_id: str,
    changes: list[dict[str, Any]],
    settings: Settings,
    *,
    check_encodable: bool = False,
    cursor: int | None = None,
) -> bytes:
    """Apply a device's batch (or answer a repeated one from its stored result); returns the answer as JSON.

    ``check_encodable``: refuse, per change, values the database's JSON cannot hold (integers beyond 64 bits);
    needed only for a body that holds one (``push_body.parse_push`` tells).
    ``cursor``: the pull cursor the device says it has reached. A record this push wrote is then noted as the
    device's own (``Transaction.note_own_writes``: its pulls leave it out) when the device holds it exactly as
    stored: the version it changed was one the device had pulled (or the record is new), and the change applied
    as sent, every write winning and no conflict opened (``_sent_over``). Anything else, a conflict above all,
    reaches the device by its next pull as before.
    """
    for attempt in range(RACE_RETRIES):
        try:
            return _push_once(db, device, batch_id, changes, settings, check_encodable, cursor)
        except RecordRaced:
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _result(
    record: str, status: str, code: str | None = None, reason: str | None = None, conflicts: Any = ()
) -> dict[str, Any]:
    """One change's result with the keys, in order, of ``protocol.ChangeResult``."""
    return {"record": record, "status": status, "code": code, "reason": reason, "conflicts": list(conflicts)}


def _push_once(
    db: Database,
    device: Mapping[str, Any],
    batch_id: str,
    changes: list[dict[str, Any]],
    settings: Settings,
    check_encodable: bool,
    cursor: int | None,
) -> bytes:
    """Plan the batch against the committed records without any lock, then commit it under the grid's lock.

    Optimistic: checking, validating, merging and serialising happen before the lock is taken, so concurrent
    pushes (other threads, other worker processes) overlap in that work. Under the lock the records' sequence
    numbers are compared with those the plan was made from; if any record changed (or appeared) meanwhile, the
    plan is made again from the records as they are now, still under the lock, so no concurrent write is lost.
    """
    grid = device["grid"]
    ids = [change["record"] for change in changes]
    versions = db.read_versions(ids)
    seen = {record_id: seq for record_id, (seq, _) in versions.items()}
    now = wall_ms()
    unknown = [record_id for record_id in ids if record_id not in versions]
    erased = db.purged_among(unknown) if unknown else {}  # erased by the retention rule: never re-created
    cleared = _cleared(db, changes, versions)
    guard = HouseholdGuard(db, grid, changes)
    results_check = ResultCheck(db, grid, changes)
    roles = in_force(db).roles  # the town configuration in force today (server_stub/town_config.py)
    rows, answer, as_sent = _plan(
        device,
        batch_id,
        changes,
        {rid: envelope for rid, (_, envelope) in versions.items()},
        settings,
        now,
        check_encodable,
        db.sealer,
        erased,
        cleared,
        guard,
        results_check,
        roles,
    )
    with db.transaction(grid) as tx:
        stored = tx.get_batch(device["id"], batch_id)
        if stored is not None:
            tx.mark_synced(device["id"], now)  # the tablet has its answer now; it counts as seen and synced
            replay = orjson.loads(stored)
            replay["replayed"] = True
            return orjson.dumps(replay)
        now_seen = tx.record_seqs(ids)
        residents_moved = guard.recheck(tx)  # a resident another push added to a household this batch deletes
        if now_seen != seen or residents_moved:  # another push wrote one of these records since they were read
            seen = now_seen
            current = tx.get_records(ids)
            erased = tx.purged_among([record_id for record_id in ids if record_id not in current])
            cleared = _cleared(tx, changes, current)
            rows, answer, as_sent = _plan(
                device,
                batch_id,
                changes,
                current,
                settings,
                now,
                check_encodable,
                db.sealer,
                erased,
                cleared,
                guard,
                results_check,
                roles,
            )
        last = tx.put_sealed(grid, rows)
        if cursor is not None and as_sent:
            first = last - len(rows) + 1
            tx.note_own_writes(
                device["id"],
                [
                    (record_id, first + index)
                    for index, (record_id, _, _) in enumerate(rows)
                    if record_id in as_sent and seen.get(record_id, 0) <= cursor
                ],
            )
        tx.save_batch(device["id"], batch_id, answer.decode(), now)
        tx.mark_synced(device["id"], now)
    return answer


def _plan(
    device: Mapping[str, Any],
    batch_id: str,
    changes: list[dict[str, Any]],
    working: dict[str, dict[str, Any]],
    settings: Settings,
    now: int,
    check_encodable: bool,
    sealer: Sealer,
    erased: Mapping[str, int] | None = None,
    cleared: Mapping[str, Mapping[str, str]] | None = None,
    guard: HouseholdGuard | None = None,
    results_check: ResultCheck | None = None,
    roles: RoleConfig = DEFAULT_ROLE_CONFIG,
) -> tuple[list[tuple[str, str, str]], bytes, set[str]]:
    """Check and merge every change over ``working`` (envelopes by id, updated in place): the rows to store
    (id, kind, sealed envelope; in the order their sequence numbers must follow), the answer as JSON, and the
    records whose every change applied as sent (``_sent_over``)."""
    touched: dict[str, dict[str, Any]] = {}
    results = []
    as_sent: set[str] = set()
    altered: set[str] = set()
    for change in changes:
        record_id = change["record"]
        if erased and record_id in erased and record_id not in working:
            results.append(_result(record_id, "refused", "purged", _erased_reason(erased[record_id])))
            continue
        if cleared and record_id in cleared:
            trimmed = _without_stale_writes(change, cleared[record_id])
            if trimmed is not change:
                altered.add(record_id)
            change = trimmed
        try:
            current = working.get(record_id)
            if check_encodable:  # first: no later check (rights, domain rules) has to meet such a value
                _check_encodable(change)
            check_change(device, change, current, settings, now, roles)
            if guard is not None and (reason := guard.refusal(change, current)) is not None:
                raise Refusal(HOUSEHOLD_REFUSAL, reason)
            if guard is not None and (reason := guard.home_refusal(change, working)) is not None:
                raise Refusal(HOME_REFUSAL, reason)
            if results_check is not None and change["kind"] == "campaign_result":
                _check_result(results_check, change, current, working)
            expected = _sent_over(current, change)  # before the merge, which updates ``current`` in place
            merged, outcome = apply_change(current, change, owned=True)  # read for this plan only
        except Refusal as refusal:
            results.append(_result(record_id, "refused", refusal.code, refusal.reason))
            altered.add(record_id)
            continue
        except MergeRefused:
            results.append(_result(record_id, "refused", "record_mismatch", RECORD_MISMATCH))
            altered.add(record_id)
            continue
        if outcome.status == "applied" and expected is not None and merged["conflicts"] == expected:
            as_sent.add(record_id)
        else:
            altered.add(record_id)
        working[record_id] = merged
        touched.pop(record_id, None)  # re-inserted so the record's sequence follows its last change
        touched[record_id] = merged
        results.append(_result(record_id, outcome.status, conflicts=outcome.conflicts))
    seal = sealer.seal  # sealed here, outside the lock, like the rest of the plan
    rows = [(rid, envelope["kind"], seal(rid, orjson.dumps(envelope))) for rid, envelope in touched.items()]
    answer = orjson.dumps({"batch_id": batch_id, "results": results, "replayed": False})
    return rows, answer, as_sent - altered


def _sent_over(current: Mapping[str, Any] | None, change: Mapping[str, Any]) -> dict[str, Any] | None:
    """The conflicts the record must have after ``change`` if it applies as sent: each write beats (or is) the
    stored one and the change opens or moves no conflict, only closes those it resolves; None when some write
    does not beat the stored one (the merge then decides, and the device learns the outcome by pulling).

    The device made the change on top of the version it holds, so a record that ends with exactly these
    conflicts and every write taken is, byte for byte, the record the device holds."""
    if current is None:
        return None if DELETED in change["fields"] else {}
    stamps = current["stamps"]
    for name, write in change["fields"].items():
        if name in stamps and write["stamp"] < stamps[name]:
            return None
    for name, elements in change["sets"].items():
        members = current["sets"].get(name, {})
        for element, write in elements.items():
            if element in members and write["stamp"] < members[element][0]:
                return None
    conflicts = current["conflicts"]
    if not conflicts:
        return {}
    expected = orjson.loads(orjson.dumps(conflicts))
    for cid, stamp in change["resolve"].items():
        conflict = expected.get(cid)
        if conflict is not None and (conflict.get("resolved") is None or stamp > conflict["resolved"]):
            conflict["resolved"] = stamp
    return expected


def _cleared(db: Any, changes: list[dict[str, Any]], existing: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Fields the retention rule cleared on the pushed visits (one indexed query, only when visits are pushed)."""
    visits = [change["record"] for change in changes if change["kind"] == "visit" and change["record"] in existing]
    return db.cleared_among(visits) if visits else {}


def _without_stale_writes(change: dict[str, Any], cleared: Mapping[str, str]) -> dict[str, Any]:
    """The change without its writes to fields the retention rule cleared after them: a tablet that had not heard of
    the erasure yet would otherwise bring the erased value back as the losing side of a conflict."""
    stale = [name for name, write in change["fields"].items() if name in cleared and write["stamp"] <= cleared[name]]
    if not stale:
        return change
    fields = {name: write for name, write in change["fields"].items() if name not in stale}
    base = {name: stamp for name, stamp in change.get("base", {}).items() if name not in stale}
    return {**change, "fields": fields, "base": base}


def _erased_reason(purged_ms: int) -> str:
    from server_stub.town_time import from_ms

    day = from_ms(purged_ms).date().isoformat()
    return f"this record was erased under the town's retention rule on {day} (已按规定删除); it is not kept"


def check_change(
    device: Mapping[str, Any],
    change: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    settings: Settings,
    now_ms: int,
    roles: RoleConfig = DEFAULT_ROLE_CONFIG,
) -> None:
    """Raise Refusal when this device may not make this change (``roles``: the town configuration's in force)."""
    record, kind, grid = change["record"], change["kind"], change["grid"]
    if grid != device["grid"]:
        raise Refusal("wrong_grid", f"this device syncs grid {device['grid']}; the change is for grid {grid}")
    if current is not None and (current["kind"] != kind or current["grid"] != grid):
        raise Refusal("record_mismatch", RECORD_MISMATCH)
    if kind == "grid" and record != grid:
        raise Refusal("grid_record_id", f"a grid record's id must be its grid ({grid}), not {record}")
    node = device["node_id"]
    latest = ""
    foreign: set[str] = set()
    for stamp in _stamps(change):
        if stamp[-12:] != node:  # a stamp ends with its node id (hlc.stamp_node)
            foreign.add(stamp[-12:])
        if stamp > latest:
            latest = stamp
    if foreign:
        raise Refusal(
            "foreign_stamp",
            f"the change carries stamps of node {min(foreign)}; this device may stamp only as {node}",
        )
    # fixed-width stamps: the greatest string is the latest time
    if latest and int(latest[:15]) - now_ms > settings.max_future_ms:
        try:
            check_not_future(latest, now_ms, settings.max_future_ms)
        except StampError as error:
            raise Refusal("stamp_in_future", str(error)) from error
    check_rights(device["role"], change, current)
    check_author(device, change)
    check_assigned(device, change, current)
    _validate(change, current, roles)


def check_author(device: Mapping[str, Any], change: Mapping[str, Any]) -> None:
    """Raise Refusal when a worker's tablet names someone else as the one who did a visit, a sampling or a
    follow-up (``rights.AUTHOR_FIELDS``); the reason names the field, never either name."""
    name = AUTHOR_FIELDS.get(change["kind"])
    if name is None or device["role"] in AUTHORS_FOR_OTHERS:
        return
    written = change["fields"].get(name)
    if written is not None and written.get("value") != device["worker"]:
        raise Refusal(
            "not_own_work",
            f"a worker's device records its own work: {change['kind']}.{name} must name this device's worker",
        )


def check_assigned(device: Mapping[str, Any], change: Mapping[str, Any], current: Mapping[str, Any] | None) -> None:
    """Raise Refusal when a temporary member's device reports on a task not assigned to its member (the task's
    ``assignee`` as stored); the reason never names either person."""
    if change["kind"] != "task" or current is None or not is_temporary(device["role"]):
        return
    if view(current).get("assignee") != device["worker"]:
        raise Refusal(
            "not_assigned",
            "a temporary member's device reports only on tasks assigned to its member: ask the grid leader",
        )


TEMPORARY_NAMES = {"cadre": "a cadre's", "volunteer": "a volunteer's", "sampling_team": "the sampling team's"}


def check_rights(role: str, change: Mapping[str, Any], current: Mapping[str, Any] | None) -> None:
    """Raise Refusal unless a device of ``role`` may make this change (``rights.RIGHTS``, docs/SERVER.md)."""
    kind = change["kind"]
    rights = RIGHTS.get(kind)
    if rights is None:
        raise Refusal("kind_not_accepted", f"this server does not accept {kind} records from tablets")
    what = "the grid" if kind == "grid" else f"a {kind}"
    temporary = is_temporary(role)

    def refuse(action: str) -> Refusal:
        if temporary:  # a temporary member's limits, whatever the staff may do
            return Refusal("temporary_limited", f"{TEMPORARY_NAMES[role]} device (temporary member) may not {action}")
        return Refusal("leader_only", f"only the grid leader's device may {action}")

    if current is None:
        if role not in rights.create:
            if not rights.create:
                raise Refusal("office_only", f"{what} record is created by the town office, not by a tablet")
            raise refuse(f"create {what}")
        return
    if role in FREE_WRITERS[kind]:
        return
    if not (rights.edit or rights.delete or any(rights.fields.values())):
        raise Refusal("office_only", f"{what} record is written by the town office, not by a tablet")
    if DELETED in change["fields"] and role not in rights.delete:
        raise refuse(f"delete or restore {what}")
    touched = {name for name in (*change["fields"], *change["sets"]) if role not in rights.writers(name)}
    if touched:
        raise refuse(f"change {', '.join(sorted(touched))} of {what}")
    closing = {conflict_field(cid, current.get("conflicts", {})) for cid in change["resolve"]}
    refused = sorted(name for name in closing if role not in rights.writers(name))
    if refused:
        raise refuse(f"resolve conflicts on {', '.join(refused)} of {what}")


def _check_result(
    check: ResultCheck, change: Mapping[str, Any], current: Mapping[str, Any] | None, working: Mapping[str, Any]
) -> None:
    try:
        check.check(change, current, working)
    except ValidationError as error:
        raise Refusal("invalid_record", str(error)) from error


def _check_encodable(change: Mapping[str, Any]) -> None:
    try:
        orjson.dumps(change)
    except TypeError as error:
        raise Refusal(
            "invalid_record", f"a value cannot be stored ({error}): whole numbers are limited to 64 bits"
        ) from error


def _stamps(change: Mapping[str, Any]) -> list[str]:
    """Every stamp a change carries (``envelope.change_stamps``)."""
    stamps = [write["stamp"] for write in change["fields"].values()]
    for elements in change["sets"].values():
        stamps.extend(write["stamp"] for write in elements.values())
    stamps.extend(change["resolve"].values())
    return stamps


def _validate(change: Mapping[str, Any], current: Mapping[str, Any] | None, roles: RoleConfig) -> None:
    kind = change["kind"]
    if validate_record is None:
        return
    values: dict[str, Any] = {name: write["value"] for name, write in change["fields"].items()}
    for name, elements in change["sets"].items():
        values[name] = {element: write["present"] for element, write in elements.items()}
    # also a change with no values: a new record needs its required fields, whatever the change carries
    try:
        validate_record(kind, values, view(current) if current is not None else None, roles=roles)
    except ValidationError as error:
        raise Refusal("invalid_record", str(error)) from error
