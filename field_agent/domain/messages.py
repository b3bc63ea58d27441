"""Every message the domain's rules can give, by key: its English text and the parameters filled into it.

A rule says ``msg("phone.mobile_digits", count=9)``; the error keeps the English text (what the server, the CLI
and the logs show, unchanged) and the key and parameters, from which a user interface says the same in its own
language: ``field_agent/domain/i18n`` holds every key here in Chinese and English (a test checks), used by the
terminal app (as ``domain.<key>``) and by the roster import of the tablet and the server.

Parameters are numbers, short codes (a list of choices, a type name) or other messages (the problem with one
element of a list): never a value that was refused, nor any part of one (see ``fieldchecks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_AREA_RULE = "a Chinese area code (3 digits 010/02x, or 4 digits 03xx-09xx)"

MESSAGES: Mapping[str, str] = {
    # one field's value (fieldchecks)
    "value.set_changes": "set changes must map each element to true (add) or false (remove)",
    "value.not_list": "must be a list, not {type}",
    "value.element": "element {position} {problem}",
    "value.empty": "cannot be empty",
    "text.not_text": "must be text, not {type}",
    "text.too_long": "is too long: at most {max_length} characters are allowed",
    "text.control": "contains control characters",
    "text.one_line": "must be a single line without control characters",
    "enum.choice": "must be one of {choices}",
    "enum.entry": "entry {position} must be one of {choices}",
    "enum.duplicate": "lists the same entry twice",
    "date.format": "must be a date written YYYY-MM-DD",
    "date.unreal": "is not a real date (no such month or day)",
    "datetime.format": "must be a date and time like 2026-11-30T09:15:00+08:00",
    "datetime.unreal": "must be a real date and time like 2026-11-30T09:15:00+08:00",
    "datetime.offset": "needs its UTC offset at the end, e.g. +08:00",
    "number.whole": "must be a whole number",
    "number.number": "must be a number",
    "number.range": "must be between {minimum:g} and {maximum:g}",
    "bool.bool": "must be true or false",
    "record_id.uuid": "must be a record id (a UUID such as 0193a1b2-...)",
    "id_list.not_list": "must be a list of record ids, not {type}",
    "id_list.entry": "entry {position} is not a record id (a UUID)",
    "id_list.duplicate": "lists the same record twice",
    "role.unknown": "must be one of the roles {roles}",
    "group.unknown": "must be one of the groups {groups}",
    "health.not_map": "must map each resident id to their answers",
    "health.resident_id": "resident {position} is not a resident record id (a UUID)",
    "health.keys": "the answers for resident {position} may hold only fever, cough and other",
    "health.bool": "{answer} in the answers for resident {position} must be true or false",
    "health.other_text": "other in the answers for resident {position} must be text",
    "members.not_list": "must be a list of members",
    "members.name": "member {position} needs a name",
    "members.keys": "member {position} may hold only name, role, group, phone, temporary and until",
    "members.same_name": "member {position} has the same name as member {other}",
    "members.role": "member {position} has an unknown role; roles are {roles}",
    "members.group": "member {position} has an unknown group; groups are {groups}",
    "members.phone": "member {position}: {problem}",
    "members.temporary": "member {position}: a temporary member's kind must be one of {kinds}",
    "members.until": "member {position}: a temporary member needs their last day as a date (YYYY-MM-DD)",
    # a whole record (validation)
    "record.kind": "is not a record kind; the kinds are {kinds}",
    "record.cleared": "is required and cannot be cleared",
    "record.required": "is required",
    "record.identity": "is set when the record is created and is not a field",
    "record.unknown_field": "is not a field of a {kind} record; its fields are {fields}",
    "resident.isolation_start": "is required while the resident is in home isolation",
    "resident.household_gone": "must be a household of this grid that has not been deleted",
    "resident.pregnant_male": "pregnant cannot be recorded: the ID number is a man's",
    "visit.seen_empty": "must be empty when the outcome is nobody_home or vacant",
    "visit.health_unseen": "has answers for a resident who is not in residents_seen",
    "sampling.required": "is required once the resident is sampled",
    "sampling.reason": "is required when the status is refused or exempt",
    "task.role_or_group": "a task needs a role (normal mode) or a group (wartime mode)",
    "grid.leader": "must be the name of one of the grid's members",
    # phone numbers (phone)
    "phone.not_text": "phone number must be text, not {type}",
    "phone.empty": "phone number is empty",
    "phone.area_missing": "a landline number needs its area code in front (e.g. 0591 for Fuqing)",
    "phone.start": "phone number must be a mobile (starting 1) or a landline with area code (starting 0)",
    "phone.characters": "phone number may hold only digits, spaces and '-' (and an extension after 转 or ext)",
    "phone.mobile_characters": "mobile number may hold only digits, spaces and '-'",
    "phone.mobile_digits": "mobile number must have 11 digits, not {count}",
    "phone.mobile_prefix": "mobile number must start with 13 to 19",
    "phone.area": f"landline number does not start with {_AREA_RULE}",
    "phone.area_group": f"landline number's first group is not {_AREA_RULE}",
    "phone.landline_digits": "landline number after the area code must have 7 or 8 digits, not {count}",
    "phone.landline_start": "landline number after the area code cannot start with 0 or 1",
    # resident ID numbers (idnumber)
    "id.not_text": "ID number must be text, not {type}",
    "id.length": "ID number must be 18 characters, not {count}",
    "id.length_old": "ID number must be 18 characters, not {count} "
    "(15-digit numbers are the old format: ask for the 18-character one)",
    "id.characters": "ID number may hold only digits (and X as the last character); character {position} is not one",
    "id.region": "ID number must start with a region code (6 digits) whose first two digits are a province code",
    "id.check_digit": "ID number's check digit (the last character) does not match the first 17: "
    "a character is mistyped",
    "id.date_unreal": "ID number: the birth date in characters 7-14 is not a real date",
    "id.date_future": "ID number: the birth date in characters 7-14 is in the future",
    "id.date_early": "ID number: the birth date in characters 7-14 is before 1900",
    "id.make_region": "region code must be 6 digits",
    "id.make_sequence": "sequence must be between 0 and 499",
    "id.make_sex": "sex must be 'male' or 'female'",
    # campaigns (domain/campaigns)
    "campaign.required": "is required",
    "campaign.key": "must be a short code: lower-case letters, digits, - and _ "
    "(at most 40, starting with a letter or digit)",
    "campaign.not_object": "must be a set of named parts (a JSON object)",
    "campaign.unknown_key": "is not known here; the known parts are {keys}",
    "campaign.ends_before": "the end date is before the start date",
    "campaign.too_many": "at most {limit} entries are allowed",
    "campaign.same_name": "is used twice",
    "campaign.choices": "a choice field needs its list of choices",
    "campaign.range": "the upper bound is below the lower bound",
    "campaign.statuses": "a campaign needs its list of statuses",
    "campaign.no_done": "at least one status must count as done",
    "campaign.empty_clause": "names no condition",
    "campaign.reason": "a reason is required for this status",
    "campaign.answers": "must map the form's fields to answers",
    "campaign.unknown_answer": "is not a field of this campaign's form; its fields are {fields}",
    "campaign.definition": "is not a valid campaign definition: {problem}",
    "campaign.unknown": "names a campaign this grid does not hold",
    "campaign.subject": "names a {found} but this campaign reaches {subject}s",
    # switching a grid's mode (roles)
    "mode.unknown": "mode must be one of {modes}, not {mode!r}",
    "mode.already": "grid {grid} is already in {mode} mode",
    "mode.member_role": "member {member} has role {role!r}, which is not one of this town's roles ({roles}): "
    "fix the member before switching",
    "mode.member_group": "member {member} has group {group!r}, which is not one of this town's groups ({groups}): "
    "fix the member before switching",
    # a town's configuration (town)
    "town.not_map": "must be a table of settings (a JSON object)",
    "town.not_list": "must be a list of dated versions",
    "town.unknown_key": "is not a setting here; the settings are {keys}",
    "town.version": "must be a whole number of 0 or more",
    "town.retention": "must be a number of days from 0 to {maximum}, or null (tablets keep everything)",
    "town.time_zone": "must be a time zone name such as Asia/Shanghai or Asia/Urumqi",
    "town.date": "must be a real date written YYYY-MM-DD",
    "town.labels": "must be a list of 1 to {maximum} entries, each with key, zh_CN and en",
    "town.label_keys": "must hold exactly key, zh_CN and en",
    "town.key": "must be a key of lower-case letters, digits and _ starting with a letter (at most 40)",
    "town.duplicate": "is the same key as an earlier entry",
    "town.name": "must be a name on one line, at most {maximum} characters",
    "town.mapping": "must map keys to keys (a JSON object of text)",
    "town.unknown_role": "names a role that is not in the list; the roles are {roles}",
    "town.unknown_group": "names a group that is not in the list; the groups are {groups}",
    "town.role_unmapped": "this role needs its wartime group in role_to_group",
    "town.sheets": "holds none of the sheets {sheets}",
    "town.setting_name": "is not a setting; the settings are {names}",
}


@dataclass(frozen=True, slots=True)
class Message:
    """One message: its key in ``MESSAGES`` and the parameters filled in; ``str()`` is the English text."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return MESSAGES[self.key].format(
            **{name: str(value) if isinstance(value, Message) else value for name, value in self.params.items()}
        )


def msg(key: str, **params: Any) -> Message:
    """The message ``key`` with ``params``; an unknown key is a programming error (every key is listed above)."""
    if key not in MESSAGES:
        raise KeyError(f"no domain message {key!r}: add it to field_agent/domain/messages.py")
    return Message(key, params)
