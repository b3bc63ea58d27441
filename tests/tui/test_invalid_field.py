"""A field with an error still shows what was typed (a one-line input had room only for the red border)."""

from __future__ import annotations

from textual.widgets import Input

from field_agent.tui.widgets.resident_form import ResidentForm

from .conftest import household_by_head, settle, unlocked


async def test_a_field_with_an_error_shows_its_text(app_factory, demo) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await app.push_screen(ResidentForm(household_by_head(demo, "陈峰林")["id"], None))
        await settle(pilot)
        phone = app.screen.query_one("#phone", Input)
        phone.value = "123"
        phone.add_class("-invalid")  # as the form marks a field the record rules refused
        await settle(pilot)
        assert phone.content_region.height >= 1
        assert phone.content_region.width >= len("123")
