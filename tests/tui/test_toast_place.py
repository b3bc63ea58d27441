"""A toast's text never lies over a row of buttons (where Textual's compositor drops Chinese characters that
straddle a button's edge: "已保  ：已采样"), at 80x24 and at 160x48."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from .conftest import SIZES, settle, unlocked


@pytest.mark.parametrize("size", list(SIZES))
async def test_a_toast_text_lies_clear_of_the_buttons(app_factory, size) -> None:
    app = app_factory()
    async with app.run_test(size=SIZES[size], notifications=True) as pilot:
        await unlocked(pilot)
        await pilot.press("f3")
        await settle(pilot)
        app.notify("已保存：已采样")
        await settle(pilot)
        await pilot.pause(0.3)
        toasts = list(app.screen.query("Toast"))  # Textual's toast widget, by its CSS type name
        assert toasts
        text = toasts[0].content_region
        assert text.height >= 1
        rows = set(range(text.y, text.bottom))
        for button in app.screen.query(".actions Button").results(Button):
            # Not on a button's lines at all: a longer message or a second toast reaches further left.
            assert not rows & set(range(button.region.y, button.region.bottom)), (text, button.region)
