"""A town's configuration (field_agent/domain/town.py): read with every problem placed and keyed, written back
whole, and the version in force on a day; a version that removes a role leaves existing records valid."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.errors import ValidationError
from field_agent.domain.i18n import say
from field_agent.domain.town import DEFAULT_TOWN_CONFIG, TownConfig, TownConfigError, TownHistory
from field_agent.domain.validation import validate_record

LEADER = {"key": "coordination", "zh_CN": "综合协调组", "en": "Coordination"}


def problems(data: object, base: TownConfig | None = None) -> dict[str, str]:
    with pytest.raises(TownConfigError) as caught:
        TownConfig.from_dict(data, base)
    return {problem.where: problem.detail.key for problem in caught.value.problems}


def test_the_defaults_round_trip_and_a_partial_file_keeps_the_rest() -> None:
    whole = DEFAULT_TOWN_CONFIG.to_dict()
    assert TownConfig.from_dict(whole) == DEFAULT_TOWN_CONFIG
    changed = TownConfig.from_dict({"tablet_retention_days": 3, "eligibility": {"groups": ["elderly"]}})
    assert changed.tablet_retention_days == 3 and changed.eligibility.groups == {"elderly"}
    assert changed.eligibility.home_isolation and changed.roles == DEFAULT_TOWN_CONFIG.roles
    assert TownConfig.from_dict(changed.to_dict(), base=TownConfig(time_zone="Asia/Urumqi")) == changed
    assert TownConfig.from_dict({"tablet_retention_days": None}).tablet_retention_days is None


def test_every_problem_is_placed_and_keyed() -> None:
    found = problems(
        {
            "colour": "red",
            "effective": "2026-02-30",
            "tablet_retention_days": -1,
            "time_zone": "Mars/Olympus",
            "eligibility": {"groups": ["elderly", "giants"], "home_isolation": "yes", "extra": 1},
        }
    )
    assert found == {
        "colour": "town.unknown_key",
        "effective": "town.date",
        "tablet_retention_days": "town.retention",
        "time_zone": "town.time_zone",
        "eligibility.groups": "enum.entry",
        "eligibility.home_isolation": "bool.bool",
        "eligibility.extra": "town.unknown_key",
    }
    assert problems("not a table") == {"": "town.not_map"}
    assert problems({"effective": "12/10/2026"}) == {"effective": "town.date"}


def test_roles_and_groups_must_hold_together() -> None:
    roles = [{"key": "information", "zh_CN": "信息员", "en": "Information officer"}]
    found = problems(
        {
            "roles": roles,
            "groups": [LEADER, {"key": "Bad Key", "zh_CN": "组", "en": "G"}, {"key": "coordination", "zh_CN": "x"}],
            "role_to_group": {"information": "tracing"},
            "group_to_role": {"coordination": "information"},
        }
    )
    assert found == {"groups[2].key": "town.key", "groups[3]": "town.label_keys"}
    found = problems(
        {
            "roles": roles,
            "groups": [LEADER, {"key": "coordination", "zh_CN": "重复", "en": "Again"}],
            "role_to_group": {"information": "tracing"},
            "group_to_role": {"coordination": "information"},
        }
    )
    assert found == {"groups[2].key": "town.duplicate"}
    found = problems(
        {
            "roles": roles,
            "groups": [LEADER],
            "role_to_group": {"information": "tracing"},
            "group_to_role": {"coordination": "patrol"},
            "leader_group": "security",
        }
    )
    assert found == {
        "role_to_group.information": "town.unknown_group",
        "group_to_role.coordination": "town.unknown_role",
        "leader_group": "town.unknown_group",
    }
    # the default mappings name the default roles: a town that renames them maps its own
    assert problems({"roles": roles})["role_to_group.patrol"] == "town.unknown_role"
    assert problems(
        {"roles": [*DEFAULT_TOWN_CONFIG.roles.to_dict()["roles"], {"key": "nurse", "zh_CN": "护理员", "en": "Nurse"}]}
    ) == {"role_to_group.nurse": "town.role_unmapped"}


def test_messages_are_said_in_both_languages() -> None:
    with pytest.raises(TownConfigError) as caught:
        TownConfig.from_dict({"time_zone": "Mars/Olympus"})
    problem = caught.value.problems[0]
    assert "时区" in say(problem.detail, "zh_CN") and "time zone" in say(problem.detail, "en")
    assert str(caught.value).startswith("town configuration: time_zone: ")


def test_versions_are_read_back_with_their_place() -> None:
    history, _ = TownHistory().add(DEFAULT_TOWN_CONFIG, date(2026, 12, 1))
    assert TownHistory.from_list(history.to_list()) == history
    bad = [*history.to_list(), {**history.to_list()[0], "time_zone": 5}, {"version": 3}]
    with pytest.raises(TownConfigError) as caught:
        TownHistory.from_list(bad)
    assert [str(p).split(":")[0] for p in caught.value.problems] == ["[1].time_zone", "[2].effective"]


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(st.lists(st.tuples(days, st.integers(0, 30)), max_size=8), days)
def test_the_version_in_force_is_the_latest_effective_on_or_before_the_day(
    added: list[tuple[date, int]], day: date
) -> None:
    history = TownHistory()
    for effective, retention in added:
        history, _ = history.add(TownConfig(tablet_retention_days=retention), effective)
    chosen = history.in_force(day)
    started = [(e, n) for n, (e, _) in enumerate(added, start=1) if e <= day]
    if not started:
        assert chosen == DEFAULT_TOWN_CONFIG
        return
    effective, number = max(started)  # the latest date; on the same date the one set last
    assert (chosen.effective, chosen.version) == (effective, number)
    assert chosen.tablet_retention_days == added[number - 1][1]
    # what a tablet is sent holds what is in force that day and every later version
    sent = history.since(day)
    assert chosen in sent and all(v in sent for v in history.versions if v.effective and v.effective > day)
    for later in range(0, 40, 7):
        assert history.in_force(day + timedelta(days=later)) in sent


def test_a_role_removed_later_leaves_existing_records_valid() -> None:
    roles = [{"key": "information", "zh_CN": "信息员", "en": "Information officer"}]
    groups = [LEADER, {"key": "tracing", "zh_CN": "流调排查组", "en": "Tracing"}]
    town = TownConfig.from_dict(
        {
            "roles": roles,
            "groups": groups,
            "role_to_group": {"information": "tracing"},
            "group_to_role": {"coordination": "information", "tracing": "information"},
        }
    )
    members = [{"name": "王丽", "role": "patrol"}, {"name": "李强", "role": "information", "group": "security"}]
    grid = {
        "name": "东门一网格",
        "town": "龙田镇",
        "community": "东门社区",
        "mode": "normal",
        "members": members,
        "leader": "王丽",
    }
    task = {"title": "巡查", "task_kind": "patrol", "role": "patrol", "status": "open"}
    # another field edited: fine; the same members written back with one more: fine
    validate_record("grid", {"name": "东门社区一网格"}, grid, roles=town.roles)
    validate_record("grid", {"members": [*members, {"name": "张三", "role": "information"}]}, grid, roles=town.roles)
    validate_record("task", {"status": "done", "role": "patrol"}, task, roles=town.roles)
    # what is written anew is checked against the version in force
    with pytest.raises(ValidationError) as caught:
        validate_record("grid", {"members": [*members, {"name": "张三", "role": "patrol"}]}, grid, roles=town.roles)
    assert caught.value.errors[0].detail is not None and caught.value.errors[0].detail.key == "members.role"
    moved = [{"name": "王丽", "role": "information"}, {"name": "李强", "role": "patrol"}]
    with pytest.raises(ValidationError):
        validate_record("grid", {"members": moved}, grid, roles=town.roles)
    with pytest.raises(ValidationError):
        validate_record("task", {"role": "safety"}, task, roles=town.roles)
    with pytest.raises(ValidationError):
        validate_record("task", task, None, roles=town.roles)
