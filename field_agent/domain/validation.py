"""Check a record write against docs/RECORDS.md, reporting every bad field in words a worker can act on.

Each problem names the field and the rule it breaks, never the value written (see ``fieldchecks``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from field_agent.domain.envelope import DELETED
from field_agent.domain.errors import FieldError, IdNumberError, PhoneError, ValidationError
from field_agent.domain.fieldchecks import check_members, check_value
from field_agent.domain.idnumber import normalize_id_number, parse_id_number
from field_agent.domain.messages import msg
from field_agent.domain.phone import parse_phone
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig
from field_agent.domain.schema import IDENTITY_KEYS, SCHEMAS


def validate_record(
    kind: str,
    values: Mapping[str, Any],
    existing: Mapping[str, Any] | None = None,
    *,
    roles: RoleConfig = DEFAULT_ROLE_CONFIG,
) -> None:
    """Raise ValidationError listing every problem with writing ``values`` to a ``kind`` record.

    ``existing`` is the flat view of the record as it stands (``envelope.view``), so a partial update needs
    only the fields it changes. A set field is given as its present elements (a list) or as changes
    ``{element: present}``. ``roles``: the town's configuration in force (``domain/town.py``); a role, group or
    member's role or group the record already holds is not checked against it, so that a town removing a role never
    makes an existing record fail when another field is edited.
    """
    schema = SCHEMAS.get(kind)
    if schema is None:
        known = ", ".join(SCHEMAS)
        raise ValidationError([FieldError.of("kind", msg("record.kind", kinds=known))])
    errors: list[FieldError] = []
    for name, value in values.items():
        if name == DELETED:
            if not isinstance(value, bool):
                errors.append(FieldError.of(name, msg("bool.bool")))
            continue
        spec = schema.get(name)
        if spec is None:
            errors.append(_unknown_field(kind, name))
            continue
        if value is None:
            if spec.required:
                errors.append(FieldError.of(name, msg("record.cleared")))
            continue
        if spec.type in _KEPT_TYPES and existing is not None:
            if existing.get(name) == value:  # unchanged: a town may have removed the role since (still valid)
                continue
            if spec.type == "members":
                message = check_members(value, roles, existing.get(name))
                if message:
                    errors.append(FieldError.of(name, message))
                continue
        message = check_value(spec, value, roles)
        if message:
            errors.append(FieldError.of(name, message))
    if values.get(DELETED) is True:
        _raise_if(errors, kind)
        return
    if errors:
        bad_fields = {error.field for error in errors}
        merged = merged_view(kind, {k: v for k, v in values.items() if k not in bad_fields}, existing)
    else:  # the common case: nothing to leave out
        bad_fields = set()
        merged = merged_view(kind, values, existing)
    for name in _REQUIRED[kind]:
        if name not in bad_fields and _is_blank(merged.get(name)):
            errors.append(FieldError.of(name, msg("record.required")))
    checks = _CROSS_CHECKS.get(kind)
    if checks:
        errors.extend(error for error in checks(merged) if error.field not in bad_fields)
    _raise_if(errors, kind)


def check_home(household: Mapping[str, Any] | None) -> list[FieldError]:
    """The problem with putting a resident in ``household`` (its envelope, None when the grid holds none): a
    resident lives in a household of its grid that has not been deleted, or it would vanish from every roster and
    ledger (docs/DOMAIN.md, "Deleting a household"). The tablet checks before saving, the server before applying."""
    if household is None or household.get("kind") != "household" or household.get("fields", {}).get(DELETED):
        return [FieldError.of("household", msg("resident.household_gone"))]
    return []


def merged_view(kind: str, values: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The record as the write leaves it: ``existing`` overlaid with ``values``, set changes applied."""
    merged = {k: v for k, v in (existing or {}).items() if k not in IDENTITY_KEYS and not k.startswith("_")}
    schema = SCHEMAS[kind]
    for name, value in values.items():
        spec = schema.get(name)
        if spec is not None and spec.is_set and isinstance(value, Mapping):
            current = set(_elements(merged.get(name)))
            current |= {element for element, present in value.items() if present}
            current -= {element for element, present in value.items() if not present}
            merged[name] = sorted(current, key=str)
        elif spec is not None and spec.is_set and value is not None:
            merged[name] = sorted(_elements(value), key=str)
        else:
            merged[name] = value
    return merged


def _elements(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return [element for element in value if isinstance(element, str)]
    return []


def normalize_values(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The same values in canonical form (ID number upper-case ``X``, phones as ``13812345678`` /
    ``0591-87654321``, text trimmed); values that are not valid are left as they are for validate_record."""
    schema = SCHEMAS.get(kind, {})
    normalized: dict[str, Any] = {}
    for name, value in values.items():
        spec = schema.get(name)
        if spec is None or not isinstance(value, str):
            normalized[name] = value
        elif spec.type == "id_number":
            normalized[name] = normalize_id_number(value)
        elif spec.type == "phone":
            try:
                normalized[name] = parse_phone(value).number
            except PhoneError:
                normalized[name] = value
        elif spec.type in ("text", "longtext"):
            normalized[name] = value.strip()
        else:
            normalized[name] = value
    return normalized


def _raise_if(errors: list[FieldError], kind: str) -> None:
    if errors:
        raise ValidationError(errors, kind)


def _unknown_field(kind: str, name: str) -> FieldError:
    """The error for a field the kind does not have; a name that is not a field name's shape (lower-case ASCII)
    is not quoted, since it may be anything typed in the wrong place."""
    if name in IDENTITY_KEYS:
        return FieldError.of(name, msg("record.identity"))
    shown = name if _FIELD_NAME.fullmatch(name) else "(unknown field)"
    return FieldError.of(shown, msg("record.unknown_field", kind=kind, fields=", ".join(SCHEMAS[kind])))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cross_resident(record: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    if record.get("isolation_status") == "home" and not record.get("isolation_start"):
        errors.append(FieldError.of("isolation_start", msg("resident.isolation_start")))
    if "pregnant" in (record.get("special_groups") or ()) and isinstance(record.get("id_number"), str):
        try:
            holder = parse_id_number(record["id_number"])
        except IdNumberError:
            return errors
        if holder.sex == "male":
            errors.append(FieldError.of("special_groups", msg("resident.pregnant_male")))
    return errors


def _cross_visit(record: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    seen = record.get("residents_seen") or []
    if record.get("outcome") in ("nobody_home", "vacant") and seen:
        errors.append(FieldError.of("residents_seen", msg("visit.seen_empty")))
    health = record.get("health") or {}
    if isinstance(health, Mapping) and isinstance(seen, list):
        unseen = [rid for rid in health if rid not in seen]
        if unseen:
            errors.append(FieldError.of("health", msg("visit.health_unseen")))
    return errors


def _cross_sampling(record: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    if record.get("status") == "sampled":
        for name in ("sampled_at", "by"):
            if _is_blank(record.get(name)):
                errors.append(FieldError.of(name, msg("sampling.required")))
    if record.get("status") in ("refused", "exempt") and _is_blank(record.get("reason")):
        errors.append(FieldError.of("reason", msg("sampling.reason")))
    return errors


def _cross_task(record: Mapping[str, Any]) -> list[FieldError]:
    if _is_blank(record.get("role")) and _is_blank(record.get("group")):
        return [FieldError.of("role", msg("task.role_or_group"))]
    return []


def _cross_grid(record: Mapping[str, Any]) -> list[FieldError]:
    members = record.get("members") or []
    leader = record.get("leader")
    if leader and isinstance(members, list) and members:
        names = {m.get("name") for m in members if isinstance(m, Mapping)}
        if leader not in names:
            return [FieldError.of("leader", msg("grid.leader"))]
    return []


# fields whose allowed values come from the town's configuration: a value the record already holds stays valid
_KEPT_TYPES = frozenset({"role", "group", "members"})

_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

# each kind's required fields in schema order, so a write does not walk the whole schema to find them
_REQUIRED: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, spec in schema.items() if spec.required) for kind, schema in SCHEMAS.items()
}

_CROSS_CHECKS: dict[str, Callable[[Mapping[str, Any]], list[FieldError]]] = {
    "resident": _cross_resident,
    "visit": _cross_visit,
    "sampling": _cross_sampling,
    "task": _cross_task,
    "grid": _cross_grid,
}
