"""Checks for one field value by type: text, dates, enumerations, ID numbers, phones, members, …

A problem is described by the rule it breaks and, inside a list, set or map, by the entry's position: never by
the value itself, nor any part of it. Messages travel into the refusal reasons the server stores and returns,
logs and reports, where a quoted name or phone number would be personal data in the clear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from field_agent.domain.errors import IdNumberError, PhoneError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.phone import parse_phone
from field_agent.domain.roles import RoleConfig
from field_agent.domain.schema import FieldSpec

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def check_value(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    """The problem with one field's value, or None when it is fine."""
    if spec.is_set:
        if isinstance(value, Mapping):
            if not all(isinstance(p, bool) for p in value.values()):
                return "set changes must map each element to true (add) or false (remove)"
            elements = list(value)
        elif isinstance(value, list | tuple | set | frozenset):
            elements = list(value)
        else:
            return f"must be a list, not {type(value).__name__}"
        for position, element in enumerate(elements, start=1):
            message = _check_scalar(spec, element, roles)
            if not message and not element.strip():
                message = "cannot be empty"
            if message:
                return f"element {position} {message}"
        return None
    return _check_scalar(spec, value, roles)


def _check_scalar(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    return _CHECKERS[spec.type](spec, value, roles)


def _text(spec: FieldSpec, value: Any, _roles: RoleConfig, multiline: bool = False) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if len(value) > spec.max_length:
        return f"is too long: at most {spec.max_length} characters are allowed"
    if (_CONTROL if multiline else _CONTROL_ONE_LINE).search(value):
        return "contains control characters" if multiline else "must be a single line without control characters"
    return None


def _longtext(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    return _text(spec, value, roles, multiline=True)


def _enum(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if value not in spec.choices or not isinstance(value, str):
        return f"must be one of {', '.join(spec.choices)}"
    return None


def _enum_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return f"must be a list, not {type(value).__name__}"
    for position, element in enumerate(value, start=1):
        if _enum(spec, element, roles):
            return f"entry {position} must be one of {', '.join(spec.choices)}"
    if len(set(value)) != len(value):
        return "lists the same entry twice"
    return None


def _date(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return "must be a date written YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "is not a real date (no such month or day)"
    return None


def _datetime(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "T ":
        return "must be a date and time like 2026-11-30T09:15:00+08:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "must be a real date and time like 2026-11-30T09:15:00+08:00"
    if moment.tzinfo is None:
        return "needs its UTC offset at the end, e.g. +08:00"
    return None


def _int(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    return _range(spec, value)


def _float(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return "must be a number"
    return _range(spec, value)


def _range(spec: FieldSpec, value: float) -> str | None:
    if spec.minimum is not None and spec.maximum is not None and not spec.minimum <= value <= spec.maximum:
        return f"must be between {spec.minimum:g} and {spec.maximum:g}"
    return None


def _bool(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _record_id(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or not _UUID.match(value):
        return "must be a record id (a UUID such as 0193a1b2-...)"
    return None


def _id_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return f"must be a list of record ids, not {type(value).__name__}"
    for position, element in enumerate(value, start=1):
        if _record_id(spec, element, roles):
            return f"entry {position} is not a record id (a UUID)"
    if len(set(value)) != len(value):
        return "lists the same record twice"
    return None


def _id_number(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    try:
        parse_id_number(value)
    except IdNumberError as exc:
        return str(exc)
    return None


def _phone(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    try:
        parse_phone(value)
    except PhoneError as exc:
        return str(exc)
    return None


def _role(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if value not in roles.role_keys:
        return f"must be one of the roles {', '.join(roles.role_keys)}"
    return None


def _group(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if value not in roles.group_keys:
        return f"must be one of the groups {', '.join(roles.group_keys)}"
    return None


def _health(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, Mapping):
        return "must map each resident id to their answers"
    for position, (resident, answers) in enumerate(value.items(), start=1):
        which = f"the answers for resident {position}"
        if _record_id(_spec, resident, roles):
            return f"resident {position} is not a resident record id (a UUID)"
        if not isinstance(answers, Mapping) or set(answers) - {"fever", "cough", "other"}:
            return f"{which} may hold only fever, cough and other"
        for key in ("fever", "cough"):
            if key in answers and not isinstance(answers[key], bool):
                return f"{key} in {which} must be true or false"
        if "other" in answers and not isinstance(answers["other"], str):
            return f"other in {which} must be text"
    return None


def _members(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return "must be a list of members"
    names: dict[str, int] = {}
    for position, member in enumerate(value, start=1):
        if not isinstance(member, Mapping) or not isinstance(member.get("name"), str) or not member["name"].strip():
            return f"member {position} needs a name"
        name = member["name"]
        extra = set(member) - {"name", "role", "group", "phone"}
        if extra:
            return f"member {position} may hold only name, role, group and phone"
        if name in names:
            return f"member {position} has the same name as member {names[name]}"
        names[name] = position
        if member.get("role") is not None and member["role"] not in roles.role_keys:
            return f"member {position} has an unknown role; roles are {', '.join(roles.role_keys)}"
        if member.get("group") is not None and member["group"] not in roles.group_keys:
            return f"member {position} has an unknown group; groups are {', '.join(roles.group_keys)}"
        if member.get("phone"):
            problem = _phone(_spec, member["phone"], roles)
            if problem:
                return f"member {position}: {problem}"
    return None


_CHECKERS: dict[str, Callable[[FieldSpec, Any, RoleConfig], str | None]] = {
    "text": _text,
    "longtext": _longtext,
    "enum": _enum,
    "enum_list": _enum_list,
    "date": _date,
    "datetime": _datetime,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "record_id": _record_id,
    "id_list": _id_list,
    "id_number": _id_number,
    "phone": _phone,
    "role": _role,
    "group": _group,
    "health": _health,
    "members": _members,
}
