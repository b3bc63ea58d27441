"""A campaign's definition: read from JSON-shaped data with every problem named by its place, and written back.

``parse_campaign(data)`` returns a ``Campaign`` or raises ``DefinitionError`` listing every problem at once, each
with its path (``form[2].type``) and a keyed message (``campaign.*`` in ``domain.messages``), never quoting the
value. The town server parses the office's file with it before a campaign is created, and the tablet parses the
definition a pulled campaign record carries with it before showing it: one schema on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from field_agent.domain.campaigns.target import TargetRule, parse_target
from field_agent.domain.errors import DomainError
from field_agent.domain.messages import Message, msg

SUBJECTS = ("resident", "household")
FIELD_TYPES = ("choice", "number", "date", "datetime", "yesno", "text", "signature")
COUNTS = ("done", "excused", "open")
"""What a result's status means for coverage: done (reached), excused (need not be reached, with a reason), open
(not yet reached: the person stays on the "nobody left out" list)."""

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NAME_LIMIT = 100
LABEL_LIMIT = 50
CHOICE_LIMIT = 50
FORM_LIMIT = 30
STATUS_LIMIT = 12


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a definition: where (a path such as ``form[2].type``) and what (a keyed message)."""

    path: str
    message: Message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DefinitionError(DomainError):
    """A campaign definition that cannot be used; ``problems`` lists every one, in the order found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("campaign definition is not valid: " + "; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class FormField:
    """One thing a worker records per target: ``type`` is one of ``FIELD_TYPES``; ``required``: needed once the
    target's status counts as done."""

    name: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type}
        if self.choices:
            data["choices"] = list(self.choices)
        if self.minimum is not None:
            data["min"] = self.minimum
        if self.maximum is not None:
            data["max"] = self.maximum
        if self.required:
            data["required"] = True
        return data


@dataclass(frozen=True, slots=True)
class Status:
    """One outcome a worker can record: ``counts`` is one of ``COUNTS``; ``needs_reason``: a reason is required."""

    key: str
    label: str
    counts: str
    needs_reason: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "label": self.label, "counts": self.counts}
        if self.needs_reason:
            data["needs_reason"] = True
        return data


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign as the office defined it. ``grids`` is the server's (which grids receive it); a tablet's copy
    names none."""

    key: str
    name: str
    template: str
    subject: str
    starts: date
    ends: date | None
    target: TargetRule
    form: tuple[FormField, ...]
    statuses: tuple[Status, ...]
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    grids: tuple[str, ...] = field(default=())

    def status(self, key: object) -> Status | None:
        for status in self.statuses:
            if status.key == key:
                return status
        return None

    def counts(self, key: object) -> str:
        """What a recorded status means for coverage (an unknown or missing one is ``open``)."""
        status = self.status(key)
        return status.counts if status is not None else "open"

    def keys_counting(self, counts: str) -> tuple[str, ...]:
        return tuple(status.key for status in self.statuses if status.counts == counts)

    def form_field(self, name: object) -> FormField | None:
        for item in self.form:
            if item.name == name:
                return item
        return None

    def is_active(self, today: date) -> bool:
        """Between its start and its end (inclusive); closing is the record's ``status``, not the definition's."""
        return self.starts <= today and (self.ends is None or today <= self.ends)

    def to_dict(self, *, with_grids: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "template": self.template,
            "subject": self.subject,
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat() if self.ends else None,
            "carried_by": {"roles": list(self.roles), "groups": list(self.groups)},
            "target": self.target.to_dict(),
            "form": [item.to_dict() for item in self.form],
            "statuses": [status.to_dict() for status in self.statuses],
        }
        if with_grids and self.grids:
            data["grids"] = list(self.grids)
        return data


class _Reader:
    """Collects problems while reading; each read returns a usable value (a default after a problem)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: Message) -> None:
        self.problems.append(Problem(path, message))

    def text(self, data: Mapping[str, Any], name: str, path: str, limit: int, required: bool = True) -> str:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path + name, msg("campaign.required"))
            return ""
        if not isinstance(value, str):
            self.add(path + name, msg("text.not_text", type=type(value).__name__))
            return ""
        value = value.strip()
        if len(value) > limit:
            self.add(path + name, msg("text.too_long", max_length=limit))
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            self.add(path + name, msg("text.one_line"))
        return value

    def key(self, data: Mapping[str, Any], name: str, path: str) -> str:
        value = self.text(data, name, path, 40)
        if value and not KEY.match(value):
            self.add(path + name, msg("campaign.key"))
        return value

    def day(self, data: Mapping[str, Any], name: str, path: str, required: bool) -> date | None:
        value = data.get(name)
        if value is None or value == "":
            if required:
                self.add(path + name, msg("campaign.required"))
            return None
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
            self.add(path + name, msg("date.format"))
            return None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.add(path + name, msg("date.unreal"))
            return None

    def number(self, data: Mapping[str, Any], name: str, path: str) -> float | None:
        value = data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path + name, msg("number.number"))
            return None
        return float(value)

    def strings(self, data: Mapping[str, Any], name: str, path: str, allowed: Sequence[str] | None) -> tuple[str, ...]:
        value = data.get(name)
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            self.add(path + name, msg("value.not_list", type=type(value).__name__))
            return ()
        seen: list[str] = []
        for position, element in enumerate(value, start=1):
            if not isinstance(element, str) or not element.strip():
                self.add(f"{path}{name}[{position}]", msg("value.empty"))
            elif allowed is not None and element not in allowed:
                self.add(f"{path}{name}[{position}]", msg("enum.choice", choices=", ".join(allowed)))
            elif element.strip() in seen:
                self.add(f"{path}{name}[{position}]", msg("enum.duplicate"))
            else:
                seen.append(element.strip())
        return tuple(seen)


def parse_campaign(
    data: object, *, role_keys: Sequence[str] | None = None, group_keys: Sequence[str] | None = None
) -> Campaign:
    """Read a definition (JSON-shaped); raise ``DefinitionError`` with every problem. ``role_keys``/``group_keys``
    are the town's roles and groups that may carry it out (any key is taken when not given: a tablet reading a
    result's campaign does not judge the office's staffing)."""
    reader = _Reader()
    if not isinstance(data, Mapping):
        raise DefinitionError([Problem("campaign", msg("campaign.not_object"))])
    known = {
        "key",
        "name",
        "template",
        "subject",
        "starts",
        "ends",
        "carried_by",
        "target",
        "form",
        "statuses",
        "grids",
    }
    for name in data:
        if name not in known:
            reader.add(str(name), msg("campaign.unknown_key", keys=", ".join(sorted(known))))
    key = reader.key(data, "key", "")
    name = reader.text(data, "name", "", NAME_LIMIT)
    template = reader.key(data, "template", "")
    subject = data.get("subject", "resident")
    if subject not in SUBJECTS:
        reader.add("subject", msg("enum.choice", choices=", ".join(SUBJECTS)))
        subject = "resident"
    starts = reader.day(data, "starts", "", required=True)
    ends = reader.day(data, "ends", "", required=False)
    if starts and ends and ends < starts:
        reader.add("ends", msg("campaign.ends_before"))
    carried = data.get("carried_by") or {}
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    if not isinstance(carried, Mapping):
        reader.add("carried_by", msg("campaign.not_object"))
    else:
        roles = reader.strings(carried, "roles", "carried_by.", role_keys)
        groups = reader.strings(carried, "groups", "carried_by.", group_keys)
    target = parse_target(data.get("target") or {}, reader.add)
    form = _form(reader, data.get("form") or [])
    statuses = _statuses(reader, data.get("statuses"))
    grids = reader.strings(data, "grids", "", None)
    if reader.problems:
        raise DefinitionError(reader.problems)
    assert starts is not None
    return Campaign(key, name, template, subject, starts, ends, target, form, statuses, roles, groups, grids)


def _form(reader: _Reader, items: object) -> tuple[FormField, ...]:
    if not isinstance(items, list):
        reader.add("form", msg("value.not_list", type=type(items).__name__))
        return ()
    if len(items) > FORM_LIMIT:
        reader.add("form", msg("campaign.too_many", limit=FORM_LIMIT))
    fields: list[FormField] = []
    names: set[str] = set()
    for position, item in enumerate(items[:FORM_LIMIT], start=1):
        path = f"form[{position}]."
        if not isinstance(item, Mapping):
            reader.add(path.rstrip("."), msg("campaign.not_object"))
            continue
        name = reader.key(item, "name", path)
        if name in names:
            reader.add(path + "name", msg("campaign.same_name"))
        names.add(name)
        label = reader.text(item, "label", path, LABEL_LIMIT)
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            reader.add(path + "type", msg("enum.choice", choices=", ".join(FIELD_TYPES)))
            kind = "text"
        choices = reader.strings(item, "choices", path, None)
        if kind == "choice" and not choices:
            reader.add(path + "choices", msg("campaign.choices"))
        if any(len(choice) > CHOICE_LIMIT for choice in choices):
            reader.add(path + "choices", msg("text.too_long", max_length=CHOICE_LIMIT))
        minimum = reader.number(item, "min", path)
        maximum = reader.number(item, "max", path)
        if minimum is not None and maximum is not None and maximum < minimum:
            reader.add(path + "max", msg("campaign.range"))
        required = item.get("required", False)
        if not isinstance(required, bool):
            reader.add(path + "required", msg("bool.bool"))
            required = False
        fields.append(FormField(name, label, str(kind), choices, minimum, maximum, required))
    return tuple(fields)


def _statuses(reader: _Reader, items: object) -> tuple[Status, ...]:
    if not isinstance(items, list) or not items:
        reader.add("statuses", msg("campaign.statuses"))
        return ()
    statuses: list[Status] = []
    keys: set[str] = set()
    for position, item in enumerate(items[:STATUS_LIMIT], start=1):
        path = f"statuses[{position}]."
        if not isinstance(item, Mapping):
            reader.add(path.rstrip("."), msg("campaign.not_object"))
            continue
        key = reader.key(item, "key", path)
        if key in keys:
            reader.add(path + "key", msg("campaign.same_name"))
        keys.add(key)
        label = reader.text(item, "label", path, LABEL_LIMIT)
        counts = item.get("counts")
        if counts not in COUNTS:
            reader.add(path + "counts", msg("enum.choice", choices=", ".join(COUNTS)))
            counts = "open"
        needs_reason = item.get("needs_reason", counts == "excused")
        if not isinstance(needs_reason, bool):
            reader.add(path + "needs_reason", msg("bool.bool"))
            needs_reason = False
        statuses.append(Status(key, label, str(counts), needs_reason))
    if len(items) > STATUS_LIMIT:
        reader.add("statuses", msg("campaign.too_many", limit=STATUS_LIMIT))
    if statuses and not any(status.counts == "done" for status in statuses):
        reader.add("statuses", msg("campaign.no_done"))
    return tuple(statuses)
