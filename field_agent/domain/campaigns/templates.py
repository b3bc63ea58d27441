"""The campaigns Field Agent ships, as definitions (data, not code): a town copies one and changes what it needs.

``TEMPLATES`` maps a template key to a definition without its key, name and dates; ``from_template(key, ...)``
fills those in. ``sampling`` is the home sampling round (核酸上门采样) the app had before campaigns: the same
statuses as a ``sampling`` record, and its target is the town's home-sampling eligibility rule
(``sampling_definition``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, parse_campaign
from field_agent.domain.campaigns.target import TargetRule
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule


def _status(key: str, label: str, counts: str, needs_reason: bool = False) -> dict[str, Any]:
    return {"key": key, "label": label, "counts": counts, "needs_reason": needs_reason}


TEMPLATES: Mapping[str, Mapping[str, Any]] = {
    "sampling": {
        "label": "核酸上门采样",
        "subject": "resident",
        "carried_by": {"roles": ["service"], "groups": ["sampling"]},
        "target": TargetRule.from_eligibility(DEFAULT_ELIGIBILITY).to_dict(),
        "form": [{"name": "sampled_at", "label": "采样时间", "type": "datetime"}],
        "statuses": [
            _status("sampled", "已采样", "done"),
            _status("exempt", "免采", "excused", True),
            _status("scheduled", "已预约", "open"),
            _status("missed", "未遇到", "open"),
            _status("refused", "拒绝", "open", True),
        ],
    },
    "vaccination": {
        "label": "疫苗接种",
        "subject": "resident",
        "carried_by": {"roles": ["service", "publicity"], "groups": ["coordination"]},
        "target": {"any": [{"min_age": 60}, {"groups": ["chronic"]}]},
        "form": [
            {"name": "doses", "label": "已接种剂次", "type": "number", "min": 0, "max": 5, "required": True},
            {
                "name": "vaccine",
                "label": "疫苗",
                "type": "choice",
                "choices": ["灭活疫苗", "重组蛋白疫苗", "腺病毒载体疫苗", "其他"],
            },
            {"name": "last_dose", "label": "末次接种日期", "type": "date"},
            {
                "name": "reason",
                "label": "未接种原因",
                "type": "choice",
                "choices": ["禁忌症", "暂缓接种", "本人拒绝", "在外地", "其他"],
            },
        ],
        "statuses": [
            _status("vaccinated", "已接种", "done"),
            _status("contraindicated", "有禁忌症", "excused", True),
            _status("declined", "暂不接种", "open", True),
            _status("not_reached", "未联系上", "open"),
        ],
    },
    "typhoon": {
        "label": "防台风转移",
        "subject": "resident",
        "carried_by": {"roles": ["safety", "service"], "groups": ["security", "supplies"]},
        "target": {
            "any": [
                {"groups": ["elderly", "disabled", "bedridden", "pregnant", "infant"]},
                {"tags": ["独居老人"]},
                {"household_tags": ["lives_alone", "独居"]},
            ]
        },
        "form": [
            {"name": "contacted", "label": "已联系", "type": "yesno", "required": True},
            {"name": "moved", "label": "已转移", "type": "yesno", "required": True},
            {"name": "shelter", "label": "安置点", "type": "text"},
            {"name": "needs", "label": "需求", "type": "text"},
            {"name": "returned", "label": "已返回", "type": "yesno"},
        ],
        "statuses": [
            _status("moved", "已转移", "done"),
            _status("stays_safe", "就地安全（已核实）", "excused", True),
            _status("refused", "拒绝转移", "open", True),
            _status("not_reached", "未联系上", "open"),
        ],
    },
    "elderly_visit": {
        "label": "独居老人巡访",
        "subject": "resident",
        "carried_by": {"roles": ["service"], "groups": ["coordination"]},
        "target": {
            "any": [
                {"tags": ["独居老人"]},
                {"household_tags": ["lives_alone", "独居"], "min_age": 60},
                {"groups": ["very_old"]},
            ]
        },
        "form": [
            {"name": "seen", "label": "见到本人", "type": "yesno", "required": True},
            {
                "name": "health",
                "label": "身体状况",
                "type": "choice",
                "choices": ["良好", "一般", "较差", "需就医"],
                "required": True,
            },
            {"name": "needs", "label": "需求", "type": "text"},
        ],
        "statuses": [
            _status("visited", "已巡访", "done"),
            _status("away", "外出（已电话联系）", "excused", True),
            _status("not_home", "未遇到", "open"),
        ],
    },
    "supplies": {
        "label": "物资发放",
        "subject": "household",
        "carried_by": {"roles": ["service"], "groups": ["supplies"]},
        "target": {"any": []},
        "form": [
            {"name": "item", "label": "物资名称", "type": "text", "required": True},
            {"name": "quantity", "label": "数量", "type": "number", "min": 1, "max": 1000, "required": True},
            {"name": "received_by", "label": "领取人签名", "type": "signature", "required": True},
        ],
        "statuses": [
            _status("received", "已领取", "done"),
            _status("declined", "不需要", "excused", True),
            _status("absent", "无人在家", "open"),
        ],
    },
}


def template_data(template: str) -> dict[str, Any]:
    """A template as definition data, without key, name and dates (KeyError for an unknown template)."""
    data = {k: copy.deepcopy(v) for k, v in TEMPLATES[template].items() if k != "label"}
    data["template"] = template
    return data


def from_template(
    template: str, key: str, name: str, starts: date, ends: date | None = None, **changes: Any
) -> Campaign:
    """A campaign made from a shipped template (``changes`` replace any of its parts, e.g. ``target``)."""
    data = template_data(template)
    data.update(key=key, name=name, starts=starts.isoformat(), ends=ends.isoformat() if ends else None)
    data.update(changes)
    return parse_campaign(data)


def sampling_definition(
    key: str, name: str, starts: date, rule: EligibilityRule = DEFAULT_ELIGIBILITY, ends: date | None = None
) -> Campaign:
    """A home sampling round as a campaign: the town's eligibility rule is its target."""
    return from_template("sampling", key, name, starts, ends, target=TargetRule.from_eligibility(rule).to_dict())
