"""The ledgers take special groups and home-sampling eligibility from the domain, not from a copy of its rules:
change the rule in ``field_agent/domain/groups.py`` and the exported ledgers follow."""

from __future__ import annotations

from typing import Any

import pytest

from field_agent.domain import groups
from field_agent.domain.envelope import is_deleted, view
from field_agent.ledgers.builder import build_ledger

from .town import TODAY

CHANGES = {
    # a town that also samples everyone of 60 and over at home
    "rule": ("DEFAULT_ELIGIBILITY", groups.EligibilityRule(groups=groups.DEFAULT_ELIGIBLE_GROUPS | {"elderly"})),
    # 高龄 from 70 instead of 80
    "age limit": ("VERY_OLD_AGE", 70),
}


def _ledger_by_id_number(envelopes: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    ledger = build_ledger("special_groups", envelopes, today=TODAY, masked=False)
    headers = ledger.headers
    number, labels, home = headers.index("公民身份号码"), headers.index("人群类别"), headers.index("上门采样")
    return {str(row[number]): (str(row[labels]), str(row[home])) for row in ledger.rows}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_special_groups_ledger_follows_the_domain_rule(
    demo: list[dict[str, Any]], change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _ledger_by_id_number(demo)
    monkeypatch.setattr(groups, *CHANGES[change])
    after = _ledger_by_id_number(demo)
    assert after != before, "the changed rule must change the demo town's ledger"

    residents = [view(e) for e in demo if e["kind"] == "resident" and not is_deleted(e)]
    shown = [r for r in residents if r.get("residency") != "away"]
    rule = groups.DEFAULT_ELIGIBILITY
    expected = {r["id_number"] for r in shown if groups.special_groups(r, TODAY) or rule.is_eligible(r, TODAY)}
    assert set(after) == expected
    for resident in shown:
        if resident["id_number"] not in after:
            continue
        label, home = after[resident["id_number"]]
        found = groups.special_groups(resident, TODAY)
        assert ("80岁以上高龄" in label) == ("very_old" in found)
        assert ("60岁以上老人" in label) == ("elderly" in found and "very_old" not in found)  # the most specific
        assert home == ("是" if rule.is_eligible(resident, TODAY) else "否")


def test_the_ledger_labels_are_keyed_by_the_domains_groups_in_its_order() -> None:
    from field_agent.domain import enums
    from field_agent.domain.enums import SPECIAL_GROUPS
    from field_agent.ledgers import labels

    assert set(labels.GROUPS) == set(SPECIAL_GROUPS) == set(groups.LEDGER_ORDER)
    assert set(labels.RESIDENCY) == set(enums.RESIDENCY_TYPES)
    assert set(labels.ISOLATION) == set(enums.ISOLATION_STATUSES)
    assert set(labels.SAMPLING) - {"left_out"} == set(enums.SAMPLING_STATUSES)
    assert labels.group_labels(["infant", "made_up", "elderly", "very_old"]) == "80岁以上高龄、婴幼儿、made_up"
    assert labels.group_labels(["chronic", "elderly"]) == "60岁以上老人、慢性病"
