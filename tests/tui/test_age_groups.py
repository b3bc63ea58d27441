"""The household screen names one age group per person, the most specific, as the ledgers do (issue 16 item 11)."""

from __future__ import annotations

from textual.widgets import DataTable

from field_agent.domain.groups import resident_age
from field_agent.tui.screens.household import HouseholdScreen

from .conftest import NOW, settle, unlocked


async def test_someone_over_80_is_shown_as_very_old_only(app_factory, demo) -> None:
    today = NOW.date()
    oldest = max(demo["resident"].values(), key=lambda r: resident_age(r, today) or 0)
    assert (resident_age(oldest, today) or 0) >= 80
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        await app.push_screen(HouseholdScreen(oldest["household"]))
        await settle(pilot)
        table = app.screen.query_one("#residents", DataTable)
        groups = str(table.get_row(oldest["id"])[3]).split()
    assert "高龄" in groups and "老年" not in groups
