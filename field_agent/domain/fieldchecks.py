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
from field_agent.domain.messages import Message, msg
from field_agent.domain.phone import parse_phone
from field_agent.domain.rights import TEMPORARY_ROLES
from field_agent.domain.roles import RoleConfig
from field_agent.domain.schema import FieldSpec

MEMBER_KEYS = frozenset({"name", "role", "group", "phone", "temporary", "until"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def check_value(spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    """The problem with one field's value (``str()`` of it is the English text), or None when it is fine."""
    if spec.is_set:
        if isinstance(value, Mapping):
            if not all(isinstance(p, bool) for p in value.values()):
                return msg("value.set_changes")
            elements = list(value)
        elif isinstance(value, list | tuple | set | frozenset):
            elements = list(value)
        else:
            return msg("value.not_list", type=type(value).__name__)
        for position, element in enumerate(elements, start=1):
            message = _check_scalar(spec, element, roles)
            if not message and not element.strip():
                message = msg("value.empty")
            if message:
                return msg("value.element", position=position, problem=message)
        return None
    return _check_scalar(spec, value, roles)


def _check_scalar(spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    return _CHECKERS[spec.type](spec, value, roles)


def _text(spec: FieldSpec, value: Any, _roles: RoleConfig, multiline: bool = False) -> Message | None:
    if not isinstance(value, str):
        return msg("text.not_text", type=type(value).__name__)
    if len(value) > spec.max_length:
        return msg("text.too_long", max_length=spec.max_length)
    if (_CONTROL if multiline else _CONTROL_ONE_LINE).search(value):
        return msg("text.control") if multiline else msg("text.one_line")
    return None


def _longtext(spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    return _text(spec, value, roles, multiline=True)


def _enum(spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if value not in spec.choices or not isinstance(value, str):
        return msg("enum.choice", choices=", ".join(spec.choices))
    return None


def _enum_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    if not isinstance(value, list):
        return msg("value.not_list", type=type(value).__name__)
    for position, element in enumerate(value, start=1):
        if _enum(spec, element, roles):
            return msg("enum.entry", position=position, choices=", ".join(spec.choices))
    if len(set(value)) != len(value):
        return msg("enum.duplicate")
    return None


def _date(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return msg("date.format")
    try:
        date.fromisoformat(value)
    except ValueError:
        return msg("date.unreal")
    return None


def _datetime(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "T ":
        return msg("datetime.format")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return msg("datetime.unreal")
    if moment.tzinfo is None:
        return msg("datetime.offset")
    return None


def _int(spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return msg("number.whole")
    return _range(spec, value)


def _float(spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return msg("number.number")
    return _range(spec, value)


def _range(spec: FieldSpec, value: float) -> Message | None:
    if spec.minimum is not None and spec.maximum is not None and not spec.minimum <= value <= spec.maximum:
        return msg("number.range", minimum=spec.minimum, maximum=spec.maximum)
    return None


def _bool(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    return None if isinstance(value, bool) else msg("bool.bool")


def _record_id(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    if not isinstance(value, str) or not _UUID.match(value):
        return msg("record_id.uuid")
    return None


def _id_list(spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    if not isinstance(value, list):
        return msg("id_list.not_list", type=type(value).__name__)
    for position, element in enumerate(value, start=1):
        if _record_id(spec, element, roles):
            return msg("id_list.entry", position=position)
    if len(set(value)) != len(value):
        return msg("id_list.duplicate")
    return None


def _id_number(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    try:
        parse_id_number(value)
    except IdNumberError as exc:
        return exc.detail or msg("id.not_text", type=type(value).__name__)
    return None


def _phone(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    try:
        parse_phone(value)
    except PhoneError as exc:
        return exc.detail or msg("phone.not_text", type=type(value).__name__)
    return None


def _role(_spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    if value not in roles.role_keys:
        return msg("role.unknown", roles=", ".join(roles.role_keys))
    return None


def _group(_spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    if value not in roles.group_keys:
        return msg("group.unknown", groups=", ".join(roles.group_keys))
    return None


def _health(_spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    if not isinstance(value, Mapping):
        return msg("health.not_map")
    for position, (resident, answers) in enumerate(value.items(), start=1):
        if _record_id(_spec, resident, roles):
            return msg("health.resident_id", position=position)
        if not isinstance(answers, Mapping) or set(answers) - {"fever", "cough", "other"}:
            return msg("health.keys", position=position)
        for key in ("fever", "cough"):
            if key in answers and not isinstance(answers[key], bool):
                return msg("health.bool", answer=key, position=position)
        if "other" in answers and not isinstance(answers["other"], str):
            return msg("health.other_text", position=position)
    return None


def _members(_spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    return check_members(value, roles)


def check_members(value: Any, roles: RoleConfig, kept: Any = None) -> Message | None:
    """A grid's member list. ``kept``: the list as the record holds it; a member keeping the role or group they
    have there is not checked against ``roles`` (a town may have removed it since: existing records stay valid)."""
    held = {
        (member.get("name"), slot, member.get(slot))
        for member in (kept if isinstance(kept, list) else ())
        if isinstance(member, Mapping)
        for slot in ("role", "group")
    }
    if not isinstance(value, list):
        return msg("members.not_list")
    names: dict[str, int] = {}
    for position, member in enumerate(value, start=1):
        if not isinstance(member, Mapping) or not isinstance(member.get("name"), str) or not member["name"].strip():
            return msg("members.name", position=position)
        name = member["name"]
        extra = set(member) - MEMBER_KEYS
        if extra:
            return msg("members.keys", position=position)
        if name in names:
            return msg("members.same_name", position=position, other=names[name])
        names[name] = position
        if (
            member.get("role") is not None
            and member["role"] not in roles.role_keys
            and (name, "role", member["role"]) not in held
        ):
            return msg("members.role", position=position, roles=", ".join(roles.role_keys))
        if (
            member.get("group") is not None
            and member["group"] not in roles.group_keys
            and (name, "group", member["group"]) not in held
        ):
            return msg("members.group", position=position, groups=", ".join(roles.group_keys))
        if member.get("phone"):
            problem = _phone(_NO_SPEC, member["phone"], roles)
            if problem:
                return msg("members.phone", position=position, problem=problem)
        problem = _temporary_member(member, position)
        if problem:
            return problem
    return None


def _temporary_member(member: Mapping[str, Any], position: int) -> Message | None:
    """A temporary member (``temporary``: cadre, volunteer or sampling_team) has a last day (``until``, a date)
    and only they have one."""
    temporary, until = member.get("temporary"), member.get("until")
    if temporary is None and until is None:
        return None
    if temporary not in TEMPORARY_ROLES:
        return msg("members.temporary", position=position, kinds=", ".join(TEMPORARY_ROLES))
    try:
        if not isinstance(until, str) or not _DATE.match(until):
            raise ValueError(until)
        date.fromisoformat(until)
    except ValueError:
        return msg("members.until", position=position)
    return None


def _campaign_definition(_spec: FieldSpec, value: Any, roles: RoleConfig) -> Message | None:
    from field_agent.domain.campaigns.definition import DefinitionError, parse_campaign

    try:
        parse_campaign(value, role_keys=roles.role_keys, group_keys=roles.group_keys)
    except DefinitionError as error:
        first = error.problems[0]
        return msg("campaign.definition", problem=f"{first.path}: {first.message}")
    return None


_ANSWER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _answers(_spec: FieldSpec, value: Any, _roles: RoleConfig) -> Message | None:
    """The shape of a campaign result's answers; what each answer must be comes from the campaign's form."""
    if not isinstance(value, Mapping) or len(value) > 30:
        return msg("campaign.answers")
    for name, answer in value.items():
        if not isinstance(name, str) or not _ANSWER_NAME.match(name):
            return msg("campaign.answers")
        if answer is not None and not isinstance(answer, str | int | float | bool):
            return msg("campaign.answers")
    return None


_CHECKERS: dict[str, Callable[[FieldSpec, Any, RoleConfig], Message | None]] = {
    "campaign_definition": _campaign_definition,
    "answers": _answers,
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

_NO_SPEC = FieldSpec("phone")  # a member's phone is checked as a phone field's value
