"""The six roles (六大员) and eight groups (八大组): per-town configurable lists with documented defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.enums import GRID_MODES, OPEN_TASK_STATUSES
from field_agent.domain.errors import ConfigError, ModeSwitchError
from field_agent.domain.messages import msg


@dataclass(frozen=True, slots=True)
class Label:
    """A role or group: its stable key and its names in Chinese and English."""

    key: str
    zh_CN: str
    en: str

    def name(self, language: str = "zh_CN") -> str:
        return self.en if language.startswith("en") else self.zh_CN


DEFAULT_ROLES = (
    Label("information", "信息员", "Information officer"),
    Label("publicity", "宣传员", "Publicity officer"),
    Label("patrol", "巡查员", "Patrol officer"),
    Label("service", "服务员", "Service officer"),
    Label("safety", "安全员", "Safety officer"),
    Label("mediation", "调解员", "Mediator"),
)

DEFAULT_GROUPS = (
    Label("coordination", "综合协调组", "Coordination"),
    Label("sampling", "核酸采样组", "Sampling"),
    Label("tracing", "流调排查组", "Tracing"),
    Label("isolation", "隔离管控组", "Isolation control"),
    Label("supplies", "物资保障组", "Supplies"),
    Label("publicity", "宣传引导组", "Publicity"),
    Label("disinfection", "环境消杀组", "Disinfection"),
    Label("security", "安全巡查组", "Security patrol"),
)

# Each role's wartime group when a member has none recorded: the work they already know in normal times.
DEFAULT_ROLE_TO_GROUP = {
    "information": "tracing",
    "publicity": "publicity",
    "patrol": "security",
    "service": "supplies",
    "safety": "disinfection",
    "mediation": "isolation",
}

# Back from wartime, a task made for a group with no assignee in the grid goes to this role.
DEFAULT_GROUP_TO_ROLE = {
    "coordination": "information",
    "sampling": "service",
    "tracing": "information",
    "isolation": "mediation",
    "supplies": "service",
    "publicity": "publicity",
    "disinfection": "safety",
    "security": "patrol",
}


@dataclass(frozen=True)
class RoleConfig:
    """A town's roles, groups and the default mappings between them."""

    roles: tuple[Label, ...] = DEFAULT_ROLES
    groups: tuple[Label, ...] = DEFAULT_GROUPS
    role_to_group: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ROLE_TO_GROUP))
    group_to_role: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GROUP_TO_ROLE))
    leader_group: str = "coordination"

    def __post_init__(self) -> None:
        problems = []
        for name, labels in (("role", self.roles), ("group", self.groups)):
            keys = [label.key for label in labels]
            if not keys:
                problems.append(f"the {name} list is empty")
            if len(set(keys)) != len(keys):
                problems.append(f"a {name} key appears twice in {keys}")
        role_keys, group_keys = set(self.role_keys), set(self.group_keys)
        for role, group in self.role_to_group.items():
            if role not in role_keys:
                problems.append(f"role_to_group names unknown role {role!r}")
            if group not in group_keys:
                problems.append(f"role_to_group sends {role!r} to unknown group {group!r}")
        missing = role_keys - set(self.role_to_group)
        if missing:
            problems.append(f"role_to_group has no group for role(s) {', '.join(sorted(missing))}")
        for group, role in self.group_to_role.items():
            if group not in group_keys or role not in role_keys:
                problems.append(f"group_to_role maps {group!r} to {role!r}, and one of them is unknown")
        if self.leader_group not in group_keys:
            problems.append(f"leader_group {self.leader_group!r} is not one of the groups")
        if problems:
            raise ConfigError("role configuration is not usable: " + "; ".join(problems))

    @property
    def role_keys(self) -> tuple[str, ...]:
        return tuple(label.key for label in self.roles)

    @property
    def group_keys(self) -> tuple[str, ...]:
        return tuple(label.key for label in self.groups)

    def role(self, key: str) -> Label:
        return _find(self.roles, key, "role")

    def group(self, key: str) -> Label:
        return _find(self.groups, key, "group")

    def group_for_role(self, role: str) -> str:
        return self.role_to_group[role]

    def role_for_group(self, group: str) -> str:
        return self.group_to_role.get(group, self.roles[0].key)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoleConfig:
        """Read a town's configuration (JSON-shaped); anything left out keeps its default."""
        try:
            roles = tuple(Label(**item) for item in data["roles"]) if "roles" in data else DEFAULT_ROLES
            groups = tuple(Label(**item) for item in data["groups"]) if "groups" in data else DEFAULT_GROUPS
        except TypeError as exc:
            raise ConfigError(f"each role and group needs exactly key, zh_CN and en: {exc}") from None
        return cls(
            roles=roles,
            groups=groups,
            role_to_group=dict(data.get("role_to_group", DEFAULT_ROLE_TO_GROUP)),
            group_to_role=dict(data.get("group_to_role", DEFAULT_GROUP_TO_ROLE)),
            leader_group=data.get("leader_group", "coordination"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "roles": [{"key": r.key, "zh_CN": r.zh_CN, "en": r.en} for r in self.roles],
            "groups": [{"key": g.key, "zh_CN": g.zh_CN, "en": g.en} for g in self.groups],
            "role_to_group": dict(self.role_to_group),
            "group_to_role": dict(self.group_to_role),
            "leader_group": self.leader_group,
        }


def _find(labels: tuple[Label, ...], key: str, what: str) -> Label:
    for label in labels:
        if label.key == key:
            return label
    raise ConfigError(f"unknown {what} {key!r}; known: {', '.join(label.key for label in labels)}")


DEFAULT_ROLE_CONFIG = RoleConfig()


@dataclass(frozen=True)
class ModeSwitch:
    """What switching a grid's mode changes, as values for ``local_edit``.

    ``grid_values`` go to the grid record; ``moves`` says where each member now works: ``from``/``to`` are the keys
    of a role and a group, either way round, and ``from_label``/``to_label`` the role or group they name (None when
    the member has none), since a role and a group may share a key (``publicity``); ``task_values`` maps each open
    task's id to the fields it gets.
    """

    grid_id: str
    from_mode: str
    to_mode: str
    grid_values: dict[str, Any]
    moves: list[dict[str, Any]]
    task_values: dict[str, dict[str, str | None]]


def wartime_group(member: Mapping[str, Any], leader: str | None, config: RoleConfig) -> str:
    """A member's group in wartime: the one recorded, else the leader's group or their role's default group."""
    if member.get("group"):
        return member["group"]
    if member.get("name") == leader or not member.get("role"):
        return config.leader_group
    return config.group_for_role(member["role"])


def switch_mode(
    grid: Mapping[str, Any],
    tasks: Iterable[Mapping[str, Any]],
    new_mode: str,
    config: RoleConfig = DEFAULT_ROLE_CONFIG,
) -> ModeSwitch:
    """Re-bind a grid's members and its open tasks in place for ``new_mode`` (``normal`` or ``wartime``).

    Going to wartime each member joins their group and each open task follows its assignee (or its role's default
    group); going back, members work in their normal roles again and open tasks return to their role. Tasks that
    are done or cancelled stay as they were: they record what happened.
    """
    if new_mode not in GRID_MODES:
        raise ModeSwitchError(msg("mode.unknown", modes=", ".join(GRID_MODES), mode=new_mode))
    current = grid.get("mode") or "normal"
    if current == new_mode:
        raise ModeSwitchError(msg("mode.already", grid=grid.get("name") or grid.get("id"), mode=new_mode))
    leader = grid.get("leader")
    members = [dict(m) for m in grid.get("members") or ()]
    for member in members:
        _check_member(member, config)
    by_name = {m["name"]: m for m in members}
    moves = []
    if new_mode == "wartime":
        for member in members:
            member["group"] = wartime_group(member, leader, config)
            moves.append(_move(member["name"], member.get("role"), member["group"], config.roles, config.groups))
    else:
        moves = [_move(m["name"], m.get("group"), m.get("role"), config.groups, config.roles) for m in members]
    task_values: dict[str, dict[str, str | None]] = {}
    for task in tasks:
        if task.get("_deleted") or task.get("status") not in OPEN_TASK_STATUSES:
            continue
        assignee = by_name.get(task.get("assignee") or "")
        if new_mode == "wartime":
            values: dict[str, str | None] = {"group": _task_group(task, assignee, leader, config)}
        else:
            values = {"role": _task_role(task, assignee, config), "group": None}
        task_values[task["id"]] = values
    return ModeSwitch(
        grid_id=grid.get("id", ""),
        from_mode=current,
        to_mode=new_mode,
        grid_values={"mode": new_mode, "members": members},
        moves=moves,
        task_values=task_values,
    )


def _move(
    name: str, from_key: str | None, to_key: str | None, from_list: tuple[Label, ...], to_list: tuple[Label, ...]
) -> dict[str, Any]:
    """One member's move, with the labels looked up in the list each key belongs to."""
    return {
        "name": name,
        "from": from_key,
        "to": to_key,
        "from_label": _find(from_list, from_key, "slot") if from_key else None,
        "to_label": _find(to_list, to_key, "slot") if to_key else None,
    }


def _check_member(member: Mapping[str, Any], config: RoleConfig) -> None:
    role, group = member.get("role"), member.get("group")
    if role and role not in config.role_keys:
        raise ModeSwitchError(
            msg("mode.member_role", member=member.get("name"), role=role, roles=", ".join(config.role_keys))
        )
    if group and group not in config.group_keys:
        raise ModeSwitchError(
            msg("mode.member_group", member=member.get("name"), group=group, groups=", ".join(config.group_keys))
        )


def _task_group(
    task: Mapping[str, Any], assignee: Mapping[str, Any] | None, leader: str | None, config: RoleConfig
) -> str:
    if assignee is not None:
        return wartime_group(assignee, leader, config)
    if task.get("role") in config.role_to_group:
        return config.group_for_role(task["role"])
    if task.get("group") in config.group_keys:
        return task["group"]
    return config.leader_group


def _task_role(task: Mapping[str, Any], assignee: Mapping[str, Any] | None, config: RoleConfig) -> str:
    if task.get("role") in config.role_keys:
        return task["role"]
    if assignee is not None and assignee.get("role") in config.role_keys:
        return assignee["role"]
    return config.role_for_group(task.get("group") or config.leader_group)
