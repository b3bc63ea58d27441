"""The demo town's campaigns: one active campaign of each shipped template beside the sampling round, with results.

Results are made from each campaign's own definition (its targets, statuses and form), as a worker would record
them: most targets reached, some excused with a reason, some still open, about a fifth not reached yet (the
"nobody left out" list). The same code makes them for every template.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, FormField
from field_agent.domain.campaigns.results import find_targets
from field_agent.domain.campaigns.templates import TEMPLATES, from_template

CHINA = timezone(timedelta(hours=8))
DEMO_TEMPLATES = ("vaccination", "typhoon", "elderly_visit", "supplies")
SAMPLE_TEXT: Mapping[str, tuple[str, ...]] = {
    "shelter": ("村委会安置点", "镇中心小学", "社区服务中心"),
    "needs": ("", "", "需常用药品", "需轮椅", "需饮用水"),
    "item": ("大米 10 斤、食用油 1 桶", "防疫物资包", "冬季慰问品"),
}
REASONS: Mapping[str, tuple[str, ...]] = {
    "excused": ("已在外地亲属家", "医生建议暂缓", "已电话确认安全", "家中已备足"),
    "open": ("本人暂不同意", "多次上门未遇到", "家属代为拒绝"),
}


def demo_campaigns(today: date) -> list[Campaign]:
    """The demo town's campaigns: started two days ago, ending in a week (keys shared by every grid)."""
    starts, ends = today - timedelta(days=2), today + timedelta(days=7)
    season = f"{today.year}{today.month:02d}"
    return [
        from_template(name, f"{name.replace('_', '-')}-{season}", f"{TEMPLATES[name]['label']}（{today.month}月）",
                      starts, ends)
        for name in DEMO_TEMPLATES
    ]  # fmt: skip


def make_campaign_records(
    rng: random.Random,
    today: date,
    views: Mapping[str, Mapping[str, Any]],
    workers: list[str],
    add: Callable[[str, dict[str, Any]], str],
) -> None:
    """Add each demo campaign and its results to a grid whose records so far are ``views`` (flat, by id)."""
    residents = [v for v in views.values() if v["kind"] == "resident"]
    households = {k: v for k, v in views.items() if v["kind"] == "household"}
    for campaign in demo_campaigns(today):
        campaign_id = add(
            "campaign",
            {
                "key": campaign.key,
                "name": campaign.name,
                "template": campaign.template,
                "definition": campaign.to_dict(),
                "status": "active",
                "starts": campaign.starts.isoformat(),
                "ends": campaign.ends.isoformat() if campaign.ends else None,
            },
        )
        for target in find_targets(campaign, residents, households, today):
            draw = rng.random()
            if draw >= 0.8:
                continue  # not reached yet
            counts = "done" if draw < 0.6 else "excused" if draw < 0.7 else "open"
            status = rng.choice(campaign.keys_counting(counts) or campaign.keys_counting("done"))
            record = views[target]
            household = target if campaign.subject == "household" else str(record.get("household"))
            signer = str(record.get("head") or record.get("name") or "")
            at = datetime.combine(today - timedelta(days=rng.randrange(0, 3)), time(rng.randrange(8, 19)), CHINA)
            values: dict[str, Any] = {
                "campaign": campaign_id,
                "target": target,
                "household": household,
                "status": status,
                "at": at.isoformat(),
                "by": rng.choice(workers),
            }
            if campaign.status(status) and campaign.status(status).needs_reason:  # type: ignore[union-attr]
                values["reason"] = rng.choice(REASONS["excused" if counts == "excused" else "open"])
            if counts == "done":
                values["answers"] = {item.name: _answer(rng, item, signer, at) for item in campaign.form}
            add("campaign_result", values)


def _answer(rng: random.Random, item: FormField, signer: str, at: datetime) -> Any:
    if item.type == "yesno":
        return True
    if item.type == "number":
        low = int(item.minimum if item.minimum is not None else 1)
        high = int(item.maximum if item.maximum is not None else low + 3)
        return rng.randint(low, min(high, low + 3))
    if item.type == "choice":
        return rng.choice(item.choices[:-1] or item.choices)
    if item.type == "date":
        return (at.date() - timedelta(days=rng.randrange(30, 400))).isoformat()
    if item.type == "datetime":
        return at.isoformat()
    if item.type == "signature":
        return signer[:50]
    return rng.choice(SAMPLE_TEXT.get(item.name, ("",)))
