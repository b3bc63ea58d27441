"""The app speeds up thread hand-offs with a shorter GIL switch interval while it runs; once it exits, the
interpreter's switch interval, GC switch and frozen objects are what they were before it started."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from field_agent.tui.app import SWITCH_INTERVAL_S
from field_agent.tui.screens.today import TodayScreen

from .conftest import PASSPHRASE, settle, unlocked

CALLERS_INTERVAL = 0.0123  # what the embedding program chose: neither Python's default nor the app's


@pytest.fixture
def callers_interval() -> Iterator[float]:
    was = sys.getswitchinterval()
    try:
        yield CALLERS_INTERVAL
    finally:
        sys.setswitchinterval(was)


def interpreter_state() -> tuple[bool, int, float]:
    return gc.isenabled(), gc.get_freeze_count(), sys.getswitchinterval()


async def test_unlock_use_and_exit_restore_the_interpreter(app_factory, callers_interval: float) -> None:
    app = app_factory(opened=False)
    sys.setswitchinterval(callers_interval)  # after the app was built, before it runs: the value it must restore
    before = interpreter_state()
    async with app.run_test() as pilot:
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)  # the app's own setting while it runs
        await pilot.press(*("space" if char == " " else char for char in PASSPHRASE), "enter")
        await settle(pilot)  # unlock, Today, then the search index and read model built in the background
        assert isinstance(app.screen, TodayScreen)
        if before[1] == 0:  # nothing frozen by anyone else: the app keeps its long-lived data out of full collections
            assert gc.get_freeze_count() > 0
        await pilot.press("ctrl+q")
    assert interpreter_state() == before


async def test_exit_on_an_error_restores_the_switch_interval(app_factory, callers_interval: float) -> None:
    app = app_factory()
    sys.setswitchinterval(callers_interval)
    before = interpreter_state()
    with pytest.raises(RuntimeError, match="test ends abruptly"):
        async with app.run_test() as pilot:
            await unlocked(pilot)
            raise RuntimeError("test ends abruptly")
    assert interpreter_state() == before
