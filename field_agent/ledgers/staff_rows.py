"""Rows of the grid staff and task ledgers (网格人员及任务台账): each grid's members with their tasks, and the tasks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from field_agent.domain.enums import OPEN_TASK_STATUSES, TASK_STATUSES
from field_agent.domain.errors import ConfigError
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, Label, RoleConfig, wartime_group
from field_agent.domain.sorting import natural_key
from field_agent.ledgers import labels
from field_agent.ledgers.index import RecordIndex, View
from field_agent.ledgers.row_values import as_date

NOT_A_MEMBER = "不在网格成员名单"


def member_rows(index: RecordIndex, config: RoleConfig = DEFAULT_ROLE_CONFIG) -> list[dict[str, Any]]:
    """One row per member of each grid (the grid record's ``members``, in its order), with the tasks assigned to
    them: all but cancelled ones, done, still open (待办 or 进行中) and open past their due date; then one row per
    other name tasks are assigned to, so every task is counted once."""
    tasks: dict[tuple[str, str], list[View]] = defaultdict(list)
    for task in index.kind("task"):
        if task.get("assignee"):
            tasks[(task["grid"], task["assignee"])].append(task)
    rows = []
    for grid in index.kind("grid"):
        leader = grid.get("leader")
        members = [m for m in grid.get("members") or () if isinstance(m, Mapping) and m.get("name")]
        names = {m["name"] for m in members}
        others = sorted({who for g, who in tasks if g == grid["grid"] and who not in names}, key=natural_key)
        for position, member in enumerate([*members, *({"name": who} for who in others)]):
            group = _wartime_group(member, leader, config)
            rows.append(
                {
                    **member,
                    "grid": grid["grid"],
                    "grid_name": index.grid_name(grid["grid"]),
                    "position": position,
                    "leader_zh": "是" if member["name"] == leader else "",
                    "role_zh": _label(config.roles, member.get("role")),
                    "group": group,
                    "group_zh": _label(config.groups, group),
                    "member_note": "" if member["name"] in names else NOT_A_MEMBER,
                    **_task_counts(tasks.get((grid["grid"], member["name"]), []), index.today),
                }
            )
    return rows


def task_rows(index: RecordIndex, config: RoleConfig = DEFAULT_ROLE_CONFIG) -> list[dict[str, Any]]:
    """One row per live task: its kind, role or group, assignee, due date, status and the buildings it covered."""
    rows = []
    for task in index.kind("task"):
        status = task.get("status")
        rows.append(
            {
                **task,
                "grid_name": index.grid_name(task["grid"]),
                "task_kind_zh": labels.label(labels.TASK_KIND, task.get("task_kind")),
                "role_zh": _label(config.roles, task.get("role")),
                "group_zh": _label(config.groups, task.get("group")),
                "due": as_date(task.get("due")),
                "status_zh": labels.label(labels.TASK_STATUS, status),
                "status_rank": TASK_STATUSES.index(status) if status in TASK_STATUSES else len(TASK_STATUSES),
                "coverage_zh": labels.SYMPTOMS_JOIN.join(sorted(task.get("coverage") or (), key=natural_key)),
            }
        )
    return rows


def _task_counts(tasks: list[View], today: dt.date) -> dict[str, int]:
    live = [t for t in tasks if t.get("status") != "cancelled"]
    still_open = [t for t in live if t.get("status") in OPEN_TASK_STATUSES]
    overdue = [t for t in still_open if isinstance(due := as_date(t.get("due")), dt.date) and due < today]
    return {
        "tasks_total": len(live),
        "tasks_done": sum(1 for t in live if t.get("status") == "done"),
        "tasks_open": len(still_open),
        "tasks_overdue": len(overdue),
    }


def _wartime_group(member: Mapping[str, Any], leader: object, config: RoleConfig) -> str | None:
    """The group a member works in during wartime (the domain's rule); None for a name only tasks know."""
    if not member.get("role") and not member.get("group") and member.get("name") != leader:
        return None
    try:
        return wartime_group(member, leader if isinstance(leader, str) else None, config)
    except (KeyError, ConfigError):  # a role this town's configuration does not know: the recorded group, if any
        return member.get("group")


def _label(known: tuple[Label, ...], key: object) -> str:
    """A role's or group's Chinese name; a key the configuration does not know, as recorded."""
    if not isinstance(key, str) or not key:
        return ""
    return next((item.zh_CN for item in known if item.key == key), key)
