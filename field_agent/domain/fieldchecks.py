"""Checks for one field value by type: text, dates, enumerations, ID numbers, phones, members, …"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from field_agent.domain.errors import IdNumberError, PhoneError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.phone import parse_phone
from field_agent.domain.redact import redact
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
        for element in elements:
            message = _check_scalar(spec, element, roles)
            if not message and not element.strip():
                message = "an element cannot be empty"
            if message:
                return f"element {redact(element)}: {message}"
        return None
    return _check_scalar(spec, value, roles)


def _check_scalar(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    return _CHECKERS[spec.type](spec, value, roles)


def _text(spec: FieldSpec, value: Any, _roles: RoleConfig, multiline: bool = False) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if len(value) > spec.max_length:
        return f"is {len(value)} characters long; at most {spec.max_length} are allowed"
    if (_CONTROL if multiline else _CONTROL_ONE_LINE).search(value):
        return "contains control characters" if multiline else "must be a single line without control characters"
    return None


def _longtext(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    return _text(spec, value, roles, multiline=True)


def _enum(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if value not in spec.choices or not isinstance(value, str):
        return f"must be one of {', '.join(spec.choices)}, not {redact(value)}"
    return None


def _enum_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return f"must be a list, not {type(value).__name__}"
    for element in value:
        if _enum(spec, element, roles):
            return f"{redact(element)} is not one of {', '.join(spec.choices)}"
    if len(set(value)) != len(value):
        return "lists the same entry twice"
    return None


def _date(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return f"must be a date written YYYY-MM-DD, not {redact(value)}"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value} is not a real date"
    return None


def _datetime(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "T ":
        return f"must be a date and time like 2026-11-30T09:15:00+08:00, not {redact(value)}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return f"{value} is not a real date and time"
    if moment.tzinfo is None:
        return f"{value} needs its UTC offset, e.g. {value}+08:00"
    return None


def _int(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number, not {redact(value)}"
    return _range(spec, value)


def _float(spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return f"must be a number, not {redact(value)}"
    return _range(spec, value)


def _range(spec: FieldSpec, value: float) -> str | None:
    if spec.minimum is not None and spec.maximum is not None and not spec.minimum <= value <= spec.maximum:
        return f"must be between {spec.minimum:g} and {spec.maximum:g}, not {value:g}"
    return None


def _bool(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {redact(value)}"


def _record_id(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> str | None:
    if not isinstance(value, str) or not _UUID.match(value):
        return f"must be a record id (a UUID such as 0193a1b2-...), not {redact(value)}"
    return None


def _id_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return f"must be a list of record ids, not {type(value).__name__}"
    for element in value:
        if _record_id(spec, element, roles):
            return f"{redact(element)} is not a record id"
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
        return f"must be one of the roles {', '.join(roles.role_keys)}, not {redact(value)}"
    return None


def _group(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if value not in roles.group_keys:
        return f"must be one of the groups {', '.join(roles.group_keys)}, not {redact(value)}"
    return None


def _health(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, Mapping):
        return "must map each resident id to their answers"
    for resident, answers in value.items():
        if _record_id(_spec, resident, roles):
            return f"{redact(resident)} is not a resident record id"
        if not isinstance(answers, Mapping) or set(answers) - {"fever", "cough", "other"}:
            return f"answers for {resident} may hold only fever, cough and other"
        for key in ("fever", "cough"):
            if key in answers and not isinstance(answers[key], bool):
                return f"{key} for {resident} must be true or false"
        if "other" in answers and not isinstance(answers["other"], str):
            return f"other for {resident} must be text"
    return None


def _members(_spec: FieldSpec, value: Any, roles: RoleConfig) -> str | None:
    if not isinstance(value, list):
        return "must be a list of members"
    names: set[str] = set()
    for position, member in enumerate(value, start=1):
        if not isinstance(member, Mapping) or not isinstance(member.get("name"), str) or not member["name"].strip():
            return f"member {position} needs a name"
        name = member["name"]
        extra = set(member) - {"name", "role", "group", "phone"}
        if extra:
            return f"member {name} has unknown entries {', '.join(sorted(map(str, extra)))}"
        if name in names:
            return f"{name} is listed twice"
        names.add(name)
        if member.get("role") is not None and member["role"] not in roles.role_keys:
            return f"member {name} has role {member['role']!r}; roles are {', '.join(roles.role_keys)}"
        if member.get("group") is not None and member["group"] not in roles.group_keys:
            return f"member {name} has group {member['group']!r}; groups are {', '.join(roles.group_keys)}"
        if member.get("phone"):
            problem = _phone(_spec, member["phone"], roles)
            if problem:
                return f"member {name}: {problem}"
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
