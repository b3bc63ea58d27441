"""The fields of each record kind (docs/RECORDS.md): type, whether required, allowed keys."""

from __future__ import annotations

from dataclasses import dataclass

from field_agent.domain import enums


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one field is checked: ``type`` names a checker in validation.py; ``is_set`` marks a set field."""

    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    is_set: bool = False
    max_length: int = 200
    minimum: float | None = None
    maximum: float | None = None


def _text(required: bool = False, max_length: int = 200) -> FieldSpec:
    return FieldSpec("text", required=required, max_length=max_length)


def _enum(choices: tuple[str, ...], required: bool = False) -> FieldSpec:
    return FieldSpec("enum", required=required, choices=choices)


NOTES = FieldSpec("longtext", max_length=2000)
RECORD_ID = FieldSpec("record_id", required=True)
WORKER = _text(required=True, max_length=50)

SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "grid": {
        "town": _text(required=True),
        "community": _text(required=True),
        "name": _text(required=True),
        "leader": _text(max_length=50),
        "party_org": _text(),
        "mode": _enum(enums.GRID_MODES, required=True),
        "members": FieldSpec("members"),
    },
    "household": {
        "building": _text(max_length=50),
        "unit": _text(max_length=50),
        "room": _text(max_length=50),
        "address": _text(required=True),
        "head": _text(max_length=50),
        "phone": FieldSpec("phone"),
        "notes": NOTES,
        "tags": FieldSpec("text", is_set=True, max_length=50),
    },
    "resident": {
        "household": RECORD_ID,
        "name": _text(required=True, max_length=50),
        "id_number": FieldSpec("id_number", required=True),
        "phone": FieldSpec("phone"),
        "phone2": FieldSpec("phone"),  # a second number (a roster cell often holds two)
        "residency": _enum(enums.RESIDENCY_TYPES, required=True),
        "special_groups": FieldSpec("enum", choices=enums.RECORDED_GROUPS, is_set=True),
        "isolation_status": _enum(enums.ISOLATION_STATUSES),
        "isolation_start": FieldSpec("date"),
        "isolation_days": FieldSpec("int", minimum=1, maximum=60),
        "notes": NOTES,
        "tags": FieldSpec("text", is_set=True, max_length=20),  # the town's own words: 独居老人, 低保户, 留守儿童
    },
    "visit": {
        "household": RECORD_ID,
        "visited_at": FieldSpec("datetime", required=True),
        "worker": WORKER,
        "outcome": _enum(enums.VISIT_OUTCOMES, required=True),
        "residents_seen": FieldSpec("id_list"),
        "health": FieldSpec("health"),
        "follow_up": FieldSpec("bool"),
        "notes": NOTES,
    },
    "sampling_round": {
        "name": _text(required=True),
        "started_at": FieldSpec("datetime", required=True),
        "status": _enum(enums.ROUND_STATUSES, required=True),
    },
    "sampling": {
        "round": RECORD_ID,
        "resident": RECORD_ID,
        "household": RECORD_ID,
        "scheduled_at": FieldSpec("datetime"),
        "team": _text(max_length=50),
        "status": _enum(enums.SAMPLING_STATUSES, required=True),
        "reason": _text(max_length=500),
        "sampled_at": FieldSpec("datetime"),
        "by": _text(max_length=50),
    },
    "followup": {
        "resident": RECORD_ID,
        "date": FieldSpec("date", required=True),
        "temperature": FieldSpec("float", minimum=34.0, maximum=43.0),
        "symptoms": FieldSpec("enum_list", choices=enums.SYMPTOMS),
        "needs": _text(max_length=500),
        "contact_made": FieldSpec("bool", required=True),
        "flagged": FieldSpec("bool"),
        "by": WORKER,
    },
    "task": {
        "title": _text(required=True),
        "task_kind": _enum(enums.TASK_KINDS, required=True),
        "role": FieldSpec("role"),
        "group": FieldSpec("group"),
        "assignee": _text(max_length=50),
        "due": FieldSpec("date"),
        "status": _enum(enums.TASK_STATUSES, required=True),
        "notes": NOTES,
        "coverage": FieldSpec("text", is_set=True, max_length=50),
    },
    # a campaign as it reaches a grid (the office writes it; domain/campaigns holds what the definition means)
    "campaign": {
        "key": _text(required=True, max_length=40),
        "name": _text(required=True, max_length=100),
        "template": _text(required=True, max_length=40),
        "definition": FieldSpec("campaign_definition", required=True),
        "status": _enum(enums.CAMPAIGN_STATUSES, required=True),
        "starts": FieldSpec("date", required=True),
        "ends": FieldSpec("date"),
    },
    # one worker's result for one target of a campaign, checked against the campaign's form (campaigns.results)
    "campaign_result": {
        "campaign": RECORD_ID,
        "target": RECORD_ID,
        "household": FieldSpec("record_id"),
        "status": _text(required=True, max_length=40),
        "reason": _text(max_length=500),
        "answers": FieldSpec("answers"),
        "at": FieldSpec("datetime"),
        "by": _text(max_length=50),
        # an appointment (预约上门): the team that will come and when; a day's route is built from these
        "team": _text(max_length=50),
        "scheduled_at": FieldSpec("datetime"),
    },
}

SET_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, spec in fields.items() if spec.is_set) for kind, fields in SCHEMAS.items()
}

IDENTITY_KEYS = ("id", "kind", "grid")
