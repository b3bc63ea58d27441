"""Roles and groups configuration, and switching a grid between normal and wartime mode in place."""

from __future__ import annotations

import pytest

from field_agent.domain.errors import ConfigError, ModeSwitchError
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig, switch_mode

GRID = {
    "id": "g1",
    "name": "东门社区第1网格",
    "mode": "normal",
    "leader": "林建国",
    "members": [
        {"name": "林建国", "role": "information", "group": "coordination", "phone": "13800000001"},
        {"name": "陈丽", "role": "publicity"},
        {"name": "郑伟", "role": "patrol", "group": "sampling"},
        {"name": "黄敏", "role": "service"},
    ],
}

TASKS = [
    {"id": "t1", "role": "publicity", "assignee": "陈丽", "status": "open"},
    {"id": "t2", "role": "patrol", "assignee": "郑伟", "status": "in_progress"},
    {"id": "t3", "role": "safety", "assignee": None, "status": "open"},
    {"id": "t4", "role": "service", "assignee": "黄敏", "status": "done"},
    {"id": "t5", "role": "mediation", "assignee": "someone gone", "status": "cancelled"},
    {"id": "t6", "role": "service", "assignee": "黄敏", "status": "open", "_deleted": True},
]


def apply(grid: dict, tasks: list[dict], switch) -> tuple[dict, list[dict]]:
    """Write a switch's values as a caller would, returning the new grid and tasks."""
    new_grid = {**grid, **switch.grid_values}
    new_tasks = [{**task, **switch.task_values.get(task["id"], {})} for task in tasks]
    return new_grid, new_tasks


def test_defaults_are_six_roles_and_eight_groups() -> None:
    assert DEFAULT_ROLE_CONFIG.role_keys == ("information", "publicity", "patrol", "service", "safety", "mediation")
    assert len(DEFAULT_ROLE_CONFIG.group_keys) == 8
    assert DEFAULT_ROLE_CONFIG.role("patrol").zh_CN == "巡查员"
    assert DEFAULT_ROLE_CONFIG.group("sampling").name("en") == "Sampling"
    assert set(DEFAULT_ROLE_CONFIG.role_to_group.values()) <= set(DEFAULT_ROLE_CONFIG.group_keys)


def test_to_wartime_moves_members_to_their_groups() -> None:
    switch = switch_mode(GRID, TASKS, "wartime")
    assert (switch.from_mode, switch.to_mode, switch.grid_id) == ("normal", "wartime", "g1")
    assert switch.grid_values["mode"] == "wartime"
    groups = {m["name"]: m["group"] for m in switch.grid_values["members"]}
    # recorded groups stay; missing ones come from the role's default group
    assert groups == {"林建国": "coordination", "陈丽": "publicity", "郑伟": "sampling", "黄敏": "supplies"}
    assert {m["name"]: (m["from"], m["to"]) for m in switch.moves}["黄敏"] == ("service", "supplies")
    # normal roles are kept for the way back
    assert [m["role"] for m in switch.grid_values["members"]] == [m["role"] for m in GRID["members"]]
    assert GRID["members"][1] == {"name": "陈丽", "role": "publicity"}  # input untouched


def test_a_move_names_the_role_and_the_group_even_when_they_share_a_key() -> None:
    """The publicity officer joins the publicity group: both keys are ``publicity``, the names are not."""
    to_war = switch_mode(GRID, TASKS, "wartime")
    move = next(m for m in to_war.moves if m["name"] == "陈丽")
    assert (move["from_label"].zh_CN, move["to_label"].zh_CN) == ("宣传员", "宣传引导组")
    war_grid, war_tasks = apply(GRID, TASKS, to_war)
    back = next(m for m in switch_mode(war_grid, war_tasks, "normal").moves if m["name"] == "陈丽")
    assert (back["from_label"].name("en"), back["to_label"].name("en")) == ("Publicity", "Publicity officer")


def test_to_wartime_moves_only_open_tasks_with_their_assignee() -> None:
    switch = switch_mode(GRID, TASKS, "wartime")
    assert switch.task_values == {
        "t1": {"group": "publicity"},
        "t2": {"group": "sampling"},  # follows 郑伟 into the sampling group
        "t3": {"group": "disinfection"},  # no assignee: the role's default group
    }


def test_switching_back_restores_normal_roles() -> None:
    to_war = switch_mode(GRID, TASKS, "wartime")
    war_grid, war_tasks = apply(GRID, TASKS, to_war)
    war_tasks.append({"id": "t7", "group": "tracing", "assignee": None, "status": "open"})  # made in wartime
    war_tasks.append({"id": "t8", "group": "security", "assignee": "黄敏", "status": "open"})
    back = switch_mode(war_grid, war_tasks, "normal")
    assert back.grid_values["mode"] == "normal"
    assert [(m["name"], m["role"]) for m in back.grid_values["members"]] == [
        (m["name"], m["role"]) for m in GRID["members"]
    ]
    assert {m["name"]: m["to"] for m in back.moves}["郑伟"] == "patrol"
    assert back.task_values == {
        "t1": {"role": "publicity", "group": None},
        "t2": {"role": "patrol", "group": None},
        "t3": {"role": "safety", "group": None},
        "t7": {"role": "information", "group": None},
        "t8": {"role": "service", "group": None},
    }
    _, normal_tasks = apply(war_grid, war_tasks, back)
    for before, after in zip(TASKS, normal_tasks, strict=False):
        assert after["role"] == before["role"]
        assert after["status"] == before["status"]


def test_switch_refuses_same_mode_unknown_mode_and_unknown_roles() -> None:
    with pytest.raises(ModeSwitchError, match="already in normal mode"):
        switch_mode(GRID, [], "normal")
    with pytest.raises(ModeSwitchError, match="mode must be one of normal, wartime"):
        switch_mode(GRID, [], "lockdown")
    broken = {**GRID, "members": [{"name": "陈丽", "role": "chef"}]}
    with pytest.raises(ModeSwitchError, match="陈丽 has role 'chef'"):
        switch_mode(broken, [], "wartime")


def test_town_configuration_changes_lists_and_mapping() -> None:
    config = RoleConfig.from_dict(
        {
            "roles": [
                {"key": "information", "zh_CN": "信息员", "en": "Information"},
                {"key": "volunteer", "zh_CN": "志愿者", "en": "Volunteer"},
            ],
            "groups": [
                {"key": "coordination", "zh_CN": "综合协调组", "en": "Coordination"},
                {"key": "sampling", "zh_CN": "核酸采样组", "en": "Sampling"},
            ],
            "role_to_group": {"information": "coordination", "volunteer": "sampling"},
            "group_to_role": {"sampling": "volunteer"},
        }
    )
    assert RoleConfig.from_dict(config.to_dict()) == config
    grid = {**GRID, "members": [{"name": "林建国", "role": "information"}, {"name": "陈丽", "role": "volunteer"}]}
    switch = switch_mode(grid, [{"id": "t", "role": "volunteer", "status": "open"}], "wartime", config)
    assert [m["group"] for m in switch.grid_values["members"]] == ["coordination", "sampling"]
    assert switch.task_values == {"t": {"group": "sampling"}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role_to_group": {"information": "tracing"}}, "no group for role"),
        ({"role_to_group": {**DEFAULT_ROLE_CONFIG.role_to_group, "chef": "tracing"}}, "unknown role 'chef'"),
        ({"leader_group": "kitchen"}, "leader_group 'kitchen'"),
        ({"roles": []}, "role list is empty"),
        ({"roles": [{"key": "x", "zh_CN": "x"}]}, "key, zh_CN and en"),
    ],
)
def test_bad_configuration_is_refused_with_the_reason(data, message) -> None:
    with pytest.raises(ConfigError, match=message):
        RoleConfig.from_dict(data)
