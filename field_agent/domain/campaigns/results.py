"""A worker's result for one target, checked against its campaign's definition; and what the results add up to.

``check_result(campaign, values)`` lists the problems of a ``campaign_result`` record as it will stand (the
record's own fields were checked by ``validate_record``): a status the campaign knows, a reason where the status
needs one, answers only to the form's fields, each of its type, and the required ones once the status counts as
done. The tablet checks before saving and the town server before accepting a push, with this same function.

``coverage(campaign, targets, results)`` is the campaign's progress and its "nobody left out" list: every target
without a result whose status counts as done or excused. Several results for one target (two tablets offline)
count by the best: done over excused over open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from field_agent.domain.campaigns.definition import Campaign, FormField
from field_agent.domain.errors import FieldError
from field_agent.domain.messages import Message, msg

_RANK = {"done": 2, "excused": 1, "open": 0}
TEXT_LIMIT = 200
SIGNATURE_LIMIT = 50


def check_result(campaign: Campaign, values: Mapping[str, Any]) -> list[FieldError]:
    """Problems of a result (the merged view of the record) against its campaign; empty when it is fine."""
    errors: list[FieldError] = []
    status = campaign.status(values.get("status"))
    if status is None:
        choices = ", ".join(s.key for s in campaign.statuses)
        errors.append(FieldError.of("status", msg("enum.choice", choices=choices)))
    elif status.needs_reason and not str(values.get("reason") or "").strip():
        errors.append(FieldError.of("reason", msg("campaign.reason")))
    answers = values.get("answers") or {}
    if not isinstance(answers, Mapping):
        return [*errors, FieldError.of("answers", msg("campaign.answers"))]
    for name, value in answers.items():
        item = campaign.form_field(name)
        if item is None:
            names = ", ".join(f.name for f in campaign.form)
            errors.append(FieldError.of(f"answers.{name}", msg("campaign.unknown_answer", fields=names or "-")))
            continue
        if value is None:
            continue
        problem = check_answer(item, value)
        if problem is not None:
            errors.append(FieldError.of(f"answers.{name}", problem))
    if status is not None and status.counts == "done":
        for item in campaign.form:
            if item.required and _blank(answers.get(item.name)):
                errors.append(FieldError.of(f"answers.{item.name}", msg("record.required")))
    return errors


def check_answer(item: FormField, value: Any) -> Message | None:
    """The problem with one answer to a form field, or None."""
    kind = item.type
    if kind == "yesno":
        return None if isinstance(value, bool) else msg("bool.bool")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return msg("number.number")
        low = item.minimum if item.minimum is not None else float("-inf")
        high = item.maximum if item.maximum is not None else float("inf")
        if not low <= value <= high:
            return msg("number.range", minimum=low, maximum=high)
        return None
    if not isinstance(value, str):
        return msg("text.not_text", type=type(value).__name__)
    if kind == "choice":
        return None if value in item.choices else msg("enum.choice", choices=", ".join(item.choices))
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return msg("date.format")
        return None if len(value) == 10 else msg("date.format")
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return msg("datetime.format")
        return None if moment.tzinfo is not None else msg("datetime.offset")
    limit = SIGNATURE_LIMIT if kind == "signature" else TEXT_LIMIT
    if len(value) > limit:
        return msg("text.too_long", max_length=limit)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return msg("text.one_line")
    if kind == "signature" and not value.strip():
        return msg("value.empty")
    return None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class Coverage:
    """A campaign's progress over its targets: ids by what their best result counts as."""

    targets: tuple[str, ...]
    done: frozenset[str]
    excused: frozenset[str]
    statuses: Mapping[str, str] = field(default_factory=dict)
    """Each target's best status key (targets without a result are absent)."""

    @property
    def left_out(self) -> tuple[str, ...]:
        """Targets neither done nor excused, in the targets' order: the "nobody left out" list."""
        return tuple(t for t in self.targets if t not in self.done and t not in self.excused)

    @property
    def percent(self) -> float:
        """Share of targets done or excused (100.0 for a campaign without targets)."""
        if not self.targets:
            return 100.0
        return 100.0 * (len(self.done) + len(self.excused)) / len(self.targets)


def best_results(campaign: Campaign, results: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Per target, its best live result: done over excused over open, then the latest ``at``, then the id."""
    best: dict[str, Mapping[str, Any]] = {}
    for result in results:
        if result.get("_deleted"):
            continue
        target = result.get("target")
        if not isinstance(target, str):
            continue
        current = best.get(target)
        if current is None or _order(campaign, result) > _order(campaign, current):
            best[target] = result
    return best


def _order(campaign: Campaign, result: Mapping[str, Any]) -> tuple[int, str, str]:
    return (_RANK[campaign.counts(result.get("status"))], str(result.get("at") or ""), str(result.get("id") or ""))


def coverage(campaign: Campaign, targets: Iterable[str], results: Iterable[Mapping[str, Any]]) -> Coverage:
    """Progress of ``targets`` (ids, in the order to list them) given the campaign's results (flat views)."""
    order = tuple(targets)
    best = best_results(campaign, results)
    wanted = set(order)
    statuses = {t: str(r.get("status")) for t, r in best.items() if t in wanted}
    done = frozenset(t for t, s in statuses.items() if campaign.counts(s) == "done")
    excused = frozenset(t for t, s in statuses.items() if campaign.counts(s) == "excused")
    return Coverage(order, done, excused, statuses)


def find_targets(
    campaign: Campaign,
    residents: Iterable[Mapping[str, Any]],
    households: Mapping[str, Mapping[str, Any]],
    today: date,
) -> list[str]:
    """The ids the campaign must reach (residents, or households for a household campaign), in household and
    then name order. ``residents`` and ``households`` (by id) are flat views of the grid's records."""
    from field_agent.domain.sorting import natural_key

    rule = campaign.target
    people = list(residents)
    if campaign.subject == "household":
        living: dict[str, list[Mapping[str, Any]]] = {}
        for resident in people:
            living.setdefault(str(resident.get("household")), []).append(resident)
        chosen = [
            h for h in households.values() if rule.household_is_target(h, living.get(str(h.get("id")), []), today)
        ]
        chosen.sort(key=lambda h: (natural_key(str(h.get("address") or "")), str(h.get("id"))))
        return [str(h["id"]) for h in chosen]
    found = [r for r in people if rule.resident_is_target(r, households.get(str(r.get("household"))), today)]

    def order(resident: Mapping[str, Any]) -> tuple[Any, ...]:
        household = households.get(str(resident.get("household"))) or {}
        return (natural_key(str(household.get("address") or "")), str(resident.get("name") or ""), resident["id"])

    found.sort(key=order)
    return [str(r["id"]) for r in found]


def check_result_record(
    campaign_record: Mapping[str, Any] | None, result: Mapping[str, Any], target_kind: str | None
) -> list[FieldError]:
    """Problems of a ``campaign_result`` (its merged view) given the campaign record it names (a flat view, None
    when the grid holds none) and the kind of record its target is (None when unknown here: not checked)."""
    from field_agent.domain.campaigns.definition import DefinitionError, parse_campaign

    if campaign_record is None or campaign_record.get("kind") != "campaign" or campaign_record.get("_deleted"):
        return [FieldError.of("campaign", msg("campaign.unknown"))]
    try:
        campaign = parse_campaign(campaign_record.get("definition"))
    except DefinitionError:
        return [FieldError.of("campaign", msg("campaign.unknown"))]
    errors = []
    if target_kind is not None and target_kind != campaign.subject:
        errors.append(FieldError.of("target", msg("campaign.subject", found=target_kind, subject=campaign.subject)))
    return errors + check_result(campaign, result)
