"""Enrolment codes, device tokens and the checks that turn a bearer token into a device."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from field_agent.domain.hlc import wall_ms
from field_agent.domain.ids import new_id
from field_agent.domain.membership import has_ended
from field_agent.domain.rights import DEVICE_ROLES
from field_agent.protocol.wire import EnrollRequest, EnrollResponse
from server_stub.db.base import Database
from server_stub.errors import AuthError, CodeRefused, Conflict, NotFound, RequestInvalid
from server_stub.temporary import check_not_ended, check_until, place_member
from server_stub.town_time import town_today

# No 0/O, 1/I/L, U: a code is read aloud and typed on a tablet.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 16
TTL_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
TTL_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "": 3_600_000}
ROLES = DEVICE_ROLES
"""``leader`` and ``worker``, the grid's own staff; ``cadre``, ``volunteer`` and ``sampling_team``, temporary
members enrolled until a last day (``server_stub.temporary``)."""


def hash_secret(secret: str) -> str:
    """SHA-256 of a token or code; enough for random secrets of 78 bits and more (no dictionary to attack)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_code_secret() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    """The secret part of a code as typed: pinned-certificate suffix dropped, case and separators ignored."""
    secret = code.split(":", 1)[0]
    secret = re.sub(r"[\s-]", "", secret).upper()
    return "-".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def parse_ttl(text: str, what: str = "ttl") -> int:
    """``90s``, ``30m``, ``24h``, ``7d`` (a bare number means hours) to milliseconds."""
    match = TTL_RE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise RequestInvalid(f"{what} {text!r} is not a duration like 30m, 24h or 7d", code="invalid_duration")
    return int(match.group(1)) * TTL_UNITS_MS[match.group(2)]


def issue_code(
    db: Database,
    grid: str,
    worker: str,
    role: str,
    ttl_ms: int,
    now_ms: int | None = None,
    *,
    until: str | None = None,
    group: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Create a one-time enrolment code bound to a grid, a worker and a role; returns it with its expiry.

    A temporary member's role (``cadre``, ``volunteer``, ``sampling_team``) needs ``until``, their last day (town
    time, at most ``MAX_TEMPORARY_DAYS`` ahead); the member is placed on the grid record (``group``: one of the
    eight groups) so the leader sees them."""
    if role not in ROLES:
        raise RequestInvalid(f"role {role!r} must be one of {', '.join(ROLES)}", code="invalid_role")
    if not worker.strip():
        raise RequestInvalid("worker name is empty", code="invalid_worker")
    ends_on = check_until(role, until, today)
    if group is not None and ends_on is None:
        raise RequestInvalid(
            "--group places a temporary member: the leader groups the staff", code="group_not_temporary"
        )
    now = wall_ms() if now_ms is None else now_ms
    secret = new_code_secret()
    grid_record = db.get_record(grid)
    if grid_record is None or grid_record["kind"] != "grid" or grid_record["fields"].get("_deleted"):
        raise NotFound(f"no grid {grid!r}: create it with 'field-server grid create'", code="grid_not_found")
    if ends_on is not None:
        place_member(db, grid, worker.strip(), role, ends_on, group)
    with db.transaction() as tx:
        tx.insert_code(
            {
                "code_hash": hash_secret(secret),
                "grid": grid,
                "worker": worker.strip(),
                "role": role,
                "created": now,
                "expires": now + ttl_ms,
                "ends_on": ends_on,
            }
        )
    return {
        "code": secret,
        "grid": grid,
        "worker": worker.strip(),
        "role": role,
        "expires_ms": now + ttl_ms,
        "until": ends_on,
    }


def enroll(
    db: Database, request: EnrollRequest, now_ms: int | None = None, today: dt.date | None = None
) -> EnrollResponse:
    """Exchange a one-time code for a device id and a bearer token (the token is shown once, stored hashed)."""
    now = wall_ms() if now_ms is None else now_ms
    code_hash = hash_secret(normalize_code(request.code))
    device_id, token = new_id(), new_token()
    with db.transaction() as tx:
        code = tx.get_code(code_hash)
        if code is None:
            raise CodeRefused("this enrolment code is not known: check it or ask the town office for a new one")
        if code["used"] is not None:
            raise CodeRefused(
                "this enrolment code was already used; each code enrols one tablet: ask for a new one",
                code="code_used",
                status=410,
            )
        if code["expires"] <= now:
            raise CodeRefused(
                "this enrolment code has expired: ask the town office for a new one", code="code_expired", status=410
            )
        if has_ended(code["ends_on"], today or town_today()):
            raise CodeRefused(
                f"the membership of this code ended on {code['ends_on']}: ask the town office for a new one",
                code="code_expired",
                status=410,
            )
        grid = tx.get_records([code["grid"]]).get(code["grid"])
        if grid is None:
            raise CodeRefused("the grid of this code no longer exists", code="grid_not_found", status=410)
        holder = tx.active_device_with_node(request.node_id)
        if holder is not None:
            raise Conflict(
                f"node id {request.node_id} already belongs to enrolled device {holder}: revoke it first",
                code="node_in_use",
            )
        if not tx.use_code(code_hash, device_id, now):
            raise CodeRefused("this enrolment code was just used by another tablet", code="code_used", status=410)
        tx.insert_device(
            {
                "id": device_id,
                "grid": code["grid"],
                "worker": code["worker"],
                "role": code["role"],
                "name": request.device_name,
                "node_id": request.node_id,
                "created": now,
                "token_hash": hash_secret(token),
                "ends_on": code["ends_on"],
            }
        )
    fields = grid["fields"]
    return EnrollResponse(
        device_id=device_id,
        token=token,
        grid=code["grid"],
        grid_name=str(fields.get("name") or ""),
        town=str(fields.get("town") or ""),
        worker=code["worker"],
        role=code["role"],
        until=code["ends_on"],
    )


def authenticate(db: Database, authorization: str | None, today: dt.date | None = None) -> dict[str, Any]:
    """The device behind an ``Authorization: Bearer <token>`` header, or AuthError with the reason (a temporary
    member's device past its last day: ``device_expired``; ``today``: the town's date, for tests)."""
    if not authorization:
        raise AuthError("this request needs the device token: Authorization: Bearer <token>", code="token_missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 256:
        raise AuthError("the Authorization header must be 'Bearer <token>'", code="token_invalid")
    device = db.device_by_token_hash(hash_secret(token.strip()))
    if device is None:
        raise AuthError("this device token is not known: enrol the tablet again", code="token_invalid")
    if device["revoked"] is not None:
        reason = device["revoked_reason"] or "revoked by the town office"
        raise AuthError(
            f"this device was revoked ({reason}): ask the town office to enrol it again", code="device_revoked"
        )
    check_not_ended(device, today)
    return device


def revoke_device(db: Database, device_id: str, reason: str = "revoked by the town office") -> None:
    with db.transaction() as tx:
        if not tx.revoke_device(device_id, reason, wall_ms()):
            raise NotFound(f"no device {device_id!r}: see 'field-server device list'", code="device_not_found")
