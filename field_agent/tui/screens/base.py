"""What every screen of an unlocked session shares: navigation bar, footer, translated keys, worker errors."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from field_agent.tui.app_base import field_app
from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import Translator
from field_agent.tui.session import Session
from field_agent.tui.timefmt import town_zone
from field_agent.tui.widgets.keybar import KeyBar
from field_agent.tui.widgets.nav import NavBar


class SessionScreen(Screen[None]):
    """A screen shown while the store is unlocked."""

    NAV: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._zone: tzinfo | None = None

    @property
    def t(self) -> Translator:
        return field_app(self).t

    @property
    def session(self) -> Session:
        return field_app(self).require_session()

    @property
    def zone(self) -> tzinfo:
        """The town's time zone, in which this screen shows every time (``timefmt.short_time(value, self.zone)``):
        the town configuration's in force (the store's ``time_zone`` setting before the town set one)."""
        if self._zone is None:
            self._zone = town_zone(self.session.town.time_zone)
        return self._zone

    def compose(self) -> ComposeResult:
        yield NavBar(self.t, current=self.NAV)
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(describe_error(self.t, event.worker.error), severity="error", timeout=10)
