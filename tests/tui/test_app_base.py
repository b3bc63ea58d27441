"""Screens and widgets reach the app through field_app(): typed, and only ever the Field Agent app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.app import App

from field_agent.tui.app import FieldAgentApp
from field_agent.tui.app_base import FieldAppBase, field_app

from .conftest import unlocked


async def test_field_app_is_the_running_app(app_factory: Callable[..., FieldAgentApp]) -> None:
    app = app_factory(lang="en")
    async with app.run_test() as pilot:
        await unlocked(pilot)
        assert field_app(app.screen) is app
        assert isinstance(app, FieldAppBase)
        assert app.require_session() is app.session


async def test_field_app_refuses_another_app() -> None:
    app: App[None] = App()
    async with app.run_test():
        with pytest.raises(TypeError, match="not the Field Agent app"):
            field_app(app.screen)


async def test_require_session_raises_while_locked(app_factory: Callable[..., FieldAgentApp]) -> None:
    app = app_factory(lang="en", opened=False)
    async with app.run_test():
        with pytest.raises(RuntimeError, match="locked"):
            app.require_session()
