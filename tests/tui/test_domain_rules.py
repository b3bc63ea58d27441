"""The terminal app takes home-sampling eligibility from the domain, not from a copy of its rules: change an age
limit in ``field_agent/domain/groups.py``, or the town configuration's rule the tablet holds (as a sync delivers
it), and both Today's count and the sampling screen follow."""

from __future__ import annotations

from datetime import date

import pytest

from field_agent.domain import groups
from field_agent.domain.town import TownConfig, TownHistory
from field_agent.store import Store
from field_agent.tui.screens.sampling import SamplingScreen
from field_agent.tui.screens.today import TodayScreen

from .conftest import NOW, PASSPHRASE, records_of, settle

TODAY: date = NOW.date()

CHANGES = {
    # a town that also samples everyone of 60 and over at home
    "rule": ("eligibility", groups.EligibilityRule(groups=groups.DEFAULT_ELIGIBLE_GROUPS | {"elderly"})),
    # 高龄 from 70 instead of 80
    "age limit": ("VERY_OLD_AGE", 70),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
async def test_today_and_the_sampling_screen_follow_the_domain_rule(
    app_factory, store_path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    residents = records_of(store_path, "resident")
    default_count = sum(groups.DEFAULT_ELIGIBILITY.is_eligible(r, TODAY) for r in residents)
    name, value = CHANGES[change]
    if isinstance(value, groups.EligibilityRule):  # the town's rule: a version of its configuration, from today
        history, _ = TownHistory().add(TownConfig(eligibility=value), TODAY)
        with Store.open(store_path, PASSPHRASE) as store:
            store.save_town_config(history.to_list())
        rule = value
    else:
        monkeypatch.setattr(groups, name, value)
        rule = groups.DEFAULT_ELIGIBILITY
    expected = {r["id"] for r in residents if rule.is_eligible(r, TODAY)}
    assert len(expected) > default_count, "the changed rule must make more of the demo grid eligible"

    messages: list = []
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await settle(pilot)
        loaded = [m for m in messages if isinstance(m, TodayScreen.Loaded)]
        assert loaded and loaded[-1].summary.sampling_eligible == len(expected)
        await pilot.press("f3")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SamplingScreen) and screen.coverage is not None
        assert {row.resident["id"] for row in screen.coverage.rows} == expected
