"""validate_record: required fields, enumerations, types, cross-field rules and partial updates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain import enums
from field_agent.domain.campaigns.templates import from_template
from field_agent.domain.errors import DomainError, FieldError, ValidationError
from field_agent.domain.idnumber import make_id_number
from field_agent.domain.roles import RoleConfig
from field_agent.domain.schema import SCHEMAS
from field_agent.domain.validation import merged_view, normalize_values, validate_record

HH = "0193a1b2-0000-7000-8000-000000000001"
RES = "0193a1b2-0000-7000-8000-000000000002"
ROUND = "0193a1b2-0000-7000-8000-000000000003"
MAN = make_id_number("350181", date(1985, 6, 1), 10, "male")
WOMAN = make_id_number("350181", date(1990, 3, 8), 11, "female")
AT = "2026-11-30T09:15:00+08:00"

VALID = {
    "grid": {
        "town": "玉屏街道",
        "community": "东门社区",
        "name": "第1网格",
        "leader": "林建国",
        "party_org": "第1网格党支部",
        "mode": "normal",
        "members": [{"name": "林建国", "role": "information", "group": "coordination", "phone": "13800000001"}],
    },
    "household": {"building": "3号楼", "unit": "2单元", "room": "502", "address": "玉屏街道东门社区3号楼2单元502室"},
    "resident": {"household": HH, "name": "林秀英", "id_number": WOMAN, "residency": "resident"},
    "visit": {"household": HH, "visited_at": AT, "worker": "陈丽", "outcome": "met", "residents_seen": [RES]},
    "sampling_round": {"name": "11月30日上门采样", "started_at": AT, "status": "open"},
    "sampling": {"round": ROUND, "resident": RES, "household": HH, "status": "scheduled"},
    "followup": {"resident": RES, "date": "2026-11-30", "contact_made": True, "by": "陈丽"},
    "task": {"title": "张贴告知书", "task_kind": "publicity", "role": "publicity", "status": "open"},
    "campaign": {
        "key": "typhoon-12",
        "name": "防台风转移",
        "template": "typhoon",
        "definition": from_template("typhoon", "typhoon-12", "防台风转移", date(2026, 12, 1)).to_dict(),
        "status": "active",
        "starts": "2026-12-01",
    },
    "campaign_result": {"campaign": ROUND, "target": RES, "status": "moved", "answers": {"moved": True}},
}


def problems(kind: str, values: dict, existing: dict | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate_record(kind, values, existing)
    return {error.field: error.message for error in caught.value.errors}


def test_every_kind_has_a_schema_and_a_valid_example() -> None:
    assert set(SCHEMAS) == set(enums.RECORD_KINDS) == set(VALID)
    for kind, values in VALID.items():
        validate_record(kind, values)


@pytest.mark.parametrize("kind", enums.RECORD_KINDS)
def test_each_required_field_is_named_when_missing(kind) -> None:
    required = [name for name, spec in SCHEMAS[kind].items() if spec.required]
    assert required
    found = problems(kind, {})
    for name in required:
        assert found[name] == "is required"
    for name in required:
        values = {k: v for k, v in VALID[kind].items() if k != name}
        assert problems(kind, values) == {name: "is required"}


@pytest.mark.parametrize(
    ("kind", "field", "choices"),
    [
        ("grid", "mode", enums.GRID_MODES),
        ("resident", "residency", enums.RESIDENCY_TYPES),
        ("resident", "isolation_status", enums.ISOLATION_STATUSES),
        ("visit", "outcome", enums.VISIT_OUTCOMES),
        ("sampling_round", "status", enums.ROUND_STATUSES),
        ("sampling", "status", enums.SAMPLING_STATUSES),
        ("task", "status", enums.TASK_STATUSES),
        ("task", "task_kind", enums.TASK_KINDS),
    ],
)
def test_enumerations_list_the_allowed_values(kind, field, choices) -> None:
    message = problems(kind, {**VALID[kind], field: "bogus"})[field]
    assert message == f"must be one of {', '.join(choices)}"  # the rule; the value is never quoted


def test_every_bad_field_is_reported_at_once() -> None:
    bad = {**VALID["resident"], "id_number": MAN[:-1] + ("0" if MAN[-1] != "0" else "1"), "phone": "1381234567"}
    bad.update(residency="tourist", colour="blue", isolation_days=0)
    found = problems("resident", bad)
    assert set(found) == {"id_number", "phone", "residency", "colour", "isolation_days"}
    assert found["id_number"].startswith("ID number's check digit (the last character) does not match")
    assert found["phone"] == "mobile number must have 11 digits, not 10"
    assert found["colour"].startswith("is not a field of a resident record; its fields are household, name")
    assert found["isolation_days"] == "must be between 1 and 60"


def test_error_types_and_message() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record("resident", {**VALID["resident"], "residency": "x"})
    error = caught.value
    assert isinstance(error, DomainError) and isinstance(error, ValueError)
    assert error.errors == [FieldError("residency", "must be one of resident, floating, away")]
    assert error.for_field("residency") and not error.for_field("name")
    assert str(error) == "resident record is not valid: residency: must be one of resident, floating, away"


def test_unknown_kind_and_identity_keys() -> None:
    assert problems("pet", {})["kind"].startswith("is not a record kind; the kinds are grid, household")
    # a field name that could be anything typed in the wrong place is not quoted back
    assert problems("task", {**VALID["task"], "林建国": 1}) == {
        "(unknown field)": "is not a field of a task record; its fields are " + ", ".join(SCHEMAS["task"])
    }
    found = problems("task", {**VALID["task"], "id": RES})
    assert found == {"id": "is set when the record is created and is not a field"}


def test_partial_update_takes_required_fields_from_existing() -> None:
    existing = {"id": RES, "kind": "resident", "grid": "g", **VALID["resident"], "special_groups": ["chronic"]}
    validate_record("resident", {"phone": "0591-87654321"}, existing)
    assert problems("resident", {"name": "  "}, existing) == {"name": "is required"}
    assert problems("resident", {"name": None}, existing) == {"name": "is required and cannot be cleared"}
    validate_record("resident", {"phone": None}, existing)  # optional fields may be cleared


def test_deleting_needs_no_other_field() -> None:
    validate_record("resident", {"_deleted": True}, {"id": RES, "name": "林"})
    assert problems("resident", {"_deleted": "yes"}, VALID["resident"]) == {"_deleted": "must be true or false"}


def test_set_fields_accept_lists_and_changes_and_check_elements() -> None:
    validate_record("resident", {**VALID["resident"], "special_groups": ["chronic", "disabled"]})
    validate_record("resident", {"special_groups": {"bedridden": True, "chronic": False}}, VALID["resident"])
    found = problems("resident", {**VALID["resident"], "special_groups": ["elderly"]})
    assert found["special_groups"].startswith("element 1 must be one of chronic, disabled")
    assert problems("task", {**VALID["task"], "coverage": "3号楼"})["coverage"] == "must be a list, not str"
    assert "true (add) or false" in problems("task", {**VALID["task"], "coverage": {"3号楼": 1}})["coverage"]
    assert problems("household", {**VALID["household"], "tags": [" "]}) == {"tags": "element 1 cannot be empty"}


def test_resident_cross_field_rules() -> None:
    assert problems("resident", {**VALID["resident"], "isolation_status": "home"}) == {
        "isolation_start": "is required while the resident is in home isolation"
    }
    validate_record("resident", {**VALID["resident"], "isolation_status": "home", "isolation_start": "2026-11-28"})
    man = {**VALID["resident"], "id_number": MAN}
    assert problems("resident", {"special_groups": {"pregnant": True}}, man) == {
        "special_groups": "pregnant cannot be recorded: the ID number is a man's"
    }
    validate_record("resident", {"special_groups": {"pregnant": True}}, VALID["resident"])
    assert problems("resident", {**VALID["resident"], "isolation_start": "2026-02-30"}) == {
        "isolation_start": "is not a real date (no such month or day)"
    }


def test_visit_rules() -> None:
    assert problems("visit", {**VALID["visit"], "outcome": "nobody_home"}) == {
        "residents_seen": "must be empty when the outcome is nobody_home or vacant"
    }
    validate_record("visit", {**VALID["visit"], "health": {RES: {"fever": False, "cough": True, "other": ""}}})
    other = "0193a1b2-0000-7000-8000-00000000000f"
    assert "not in residents_seen" in problems("visit", {**VALID["visit"], "health": {other: {}}})["health"]
    assert "fever" in problems("visit", {**VALID["visit"], "health": {RES: {"fever": "no"}}})["health"]
    assert problems("visit", {**VALID["visit"], "visited_at": "2026-11-30T09:15:00"}) == {
        "visited_at": "needs its UTC offset at the end, e.g. +08:00"
    }
    assert "record id" in problems("visit", {**VALID["visit"], "residents_seen": ["nope"]})["residents_seen"]


def test_sampling_rules() -> None:
    assert problems("sampling", {**VALID["sampling"], "status": "sampled"}) == {
        "sampled_at": "is required once the resident is sampled",
        "by": "is required once the resident is sampled",
    }
    validate_record("sampling", {**VALID["sampling"], "status": "sampled", "sampled_at": AT, "by": "采样一队"})
    for status in ("refused", "exempt"):
        assert problems("sampling", {**VALID["sampling"], "status": status}) == {
            "reason": "is required when the status is refused or exempt"
        }


def test_followup_types() -> None:
    found = problems(
        "followup", {**VALID["followup"], "temperature": 45, "symptoms": ["sneezing"], "contact_made": "yes"}
    )
    assert found == {
        "temperature": "must be between 34 and 43",
        "symptoms": "entry 1 must be one of " + ", ".join(enums.SYMPTOMS),
        "contact_made": "must be true or false",
    }
    validate_record("followup", {**VALID["followup"], "temperature": 37.2, "symptoms": ["cough"]})


def test_task_roles_groups_and_town_configuration() -> None:
    assert problems("task", {**VALID["task"], "role": None}) == {
        "role": "a task needs a role (normal mode) or a group (wartime mode)"
    }
    validate_record("task", {**VALID["task"], "role": None, "group": "sampling"})
    assert problems("task", {**VALID["task"], "role": "chef"})["role"].startswith("must be one of the roles")
    town = RoleConfig.from_dict(
        {
            "roles": [{"key": "chef", "zh_CN": "炊事员", "en": "Cook"}],
            "groups": [{"key": "kitchen", "zh_CN": "后勤组", "en": "Kitchen"}],
            "role_to_group": {"chef": "kitchen"},
            "group_to_role": {},
            "leader_group": "kitchen",
        }
    )
    validate_record("task", {**VALID["task"], "role": "chef"}, roles=town)


def test_grid_members_and_leader() -> None:
    member = VALID["grid"]["members"][0]
    cases = {
        "member 2 has the same name as member 1": [member, member],
        "member 1 has an unknown role; roles are": [{**member, "role": "boss"}],
        "member 1 has an unknown group; groups are": [{**member, "group": "kitchen"}],
        "member 1 needs a name": [{"role": "information"}],
        "member 1 may hold only name, role, group, phone, temporary and until": [{**member, "age": 40}],
        "member 1: mobile number must have 11 digits": [{**member, "phone": "138"}],
    }
    for message, members in cases.items():
        found = problems("grid", {**VALID["grid"], "members": members})["members"]
        assert message in found
        assert member["name"] not in found  # members are named by position, never by name
    assert problems("grid", {"leader": "王五"}, VALID["grid"]) == {
        "leader": "must be the name of one of the grid's members"
    }


def test_temporary_members_have_a_kind_and_a_last_day() -> None:
    """Cadres, volunteers and the sampling team stand on the members list with ``temporary`` and ``until``."""
    member = VALID["grid"]["members"][0]
    volunteer = {"name": "赵志愿", "temporary": "volunteer", "until": "2026-12-31", "group": "sampling"}
    validate_record("grid", {**VALID["grid"], "members": [member, volunteer]})
    cases = {
        "member 2: a temporary member's kind must be one of cadre, volunteer, sampling_team": [
            {**volunteer, "temporary": "intern"},
            {"name": "赵志愿", "until": "2026-12-31"},  # a last day without a kind
        ],
        "member 2: a temporary member needs their last day as a date (YYYY-MM-DD)": [
            {**volunteer, "until": None},
            {**volunteer, "until": "2026-02-30"},
            {**volunteer, "until": "31/12/2026"},
        ],
    }
    for message, bad in cases.items():
        for one in bad:
            found = problems("grid", {**VALID["grid"], "members": [member, one]})["members"]
            assert found == message and "赵志愿" not in found


def test_a_temporary_member_is_ended_the_day_after_their_last_day() -> None:
    from field_agent.domain.membership import member_ended

    volunteer = {"name": "赵志愿", "temporary": "volunteer", "until": "2026-12-31"}
    assert not member_ended(volunteer, date(2026, 12, 31))
    assert member_ended(volunteer, date(2027, 1, 1))
    assert not member_ended({"name": "林建国", "role": "information"}, date(2099, 1, 1))


def test_text_limits() -> None:
    assert problems("household", {**VALID["household"], "building": "x" * 51}) == {
        "building": "is too long: at most 50 characters are allowed"
    }
    assert "single line" in problems("household", {**VALID["household"], "address": "a\nb"})["address"]
    validate_record("household", {**VALID["household"], "notes": "第一行\n第二行"})
    assert problems("household", {**VALID["household"], "head": 5}) == {"head": "must be text, not int"}


def test_normalize_values_and_merged_view() -> None:
    values = {"id_number": WOMAN.lower() + " ", "phone": "+86 138 1234 5678", "name": " 林秀英 ", "notes": 3}
    assert normalize_values("resident", values) == {
        "id_number": WOMAN.upper(),
        "phone": "13812345678",
        "name": "林秀英",
        "notes": 3,
    }
    assert normalize_values("resident", {"phone": "bad"}) == {"phone": "bad"}
    merged = merged_view(
        "resident",
        {"special_groups": {"chronic": False, "disabled": True}},
        {
            "id": RES,
            "kind": "resident",
            "_conflicts": ["c"],
            "special_groups": ["chronic", "pregnant"],
        },
    )
    assert merged == {"special_groups": ["disabled", "pregnant"]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.sampled_from(enums.RECORD_KINDS), st.data())
def test_any_json_value_gets_a_validation_error_never_a_crash(kind, data) -> None:
    field = data.draw(st.sampled_from([*SCHEMAS[kind], "_deleted", "unknown"]))
    value = data.draw(json_values)
    try:
        validate_record(kind, {**VALID[kind], field: value})
    except ValidationError as error:
        assert error.errors
        assert all(e.message for e in error.errors)
