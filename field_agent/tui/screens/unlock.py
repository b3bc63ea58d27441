"""Unlock (passphrase entry) and first run (create a store for a grid, or open the demo town)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, LoadingIndicator, Static

from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import Translator
from field_agent.tui.localize import localize_bindings
from field_agent.tui.session import Session
from field_agent.tui.setup import create_store, store_exists


class UnlockScreen(Screen[None]):
    """Asks for the passphrase; derives the key in a thread worker while an indicator runs."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "key.quit")]

    class Unlocked(Message):
        """The store is open and its read model loaded."""

        def __init__(self, session: Session) -> None:
            super().__init__()
            self.session = session

    class UnlockFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(self, store_path: Path, opening: bool = False) -> None:
        super().__init__()
        self.store_path = store_path
        self.opening = opening
        self.first_run = not opening and not store_exists(store_path)
        localize_bindings(self, self.t)

    @property
    def t(self) -> Translator:
        return self.app.t  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        t = self.t
        with Center(), Vertical(id="unlock-box"):
            yield Static(t("app.title"), id="unlock-title")
            if self.first_run:
                yield Label(t("unlock.first_run"), id="unlock-intro")
                yield Input(placeholder=t("unlock.town"), id="town", compact=True)
                yield Input(placeholder=t("unlock.community"), id="community", compact=True)
                yield Input(placeholder=t("unlock.grid_name"), id="grid-name", compact=True)
                yield Input(placeholder=t("unlock.worker_name"), id="worker-name", compact=True)
            else:
                yield Label(t("unlock.prompt"), id="unlock-intro")
            yield Input(password=True, placeholder=t("unlock.passphrase"), id="passphrase", compact=self.first_run)
            if self.first_run:
                yield Input(password=True, placeholder=t("unlock.confirm"), id="confirm", compact=True)
            yield Label("", id="unlock-error")
            yield LoadingIndicator(id="kdf")
            yield Label(t("unlock.deriving"), id="kdf-label")
            with Horizontal(id="unlock-buttons"):
                if self.first_run:
                    yield Button(t("unlock.create"), variant="primary", id="create")
                    yield Button(t("unlock.demo"), id="demo")
                else:
                    yield Button(t("unlock.unlock"), variant="primary", id="unlock")
        yield Footer()

    def on_mount(self) -> None:
        self.set_busy(self.opening)
        if not self.opening:
            self.query_one("#town" if self.first_run else "#passphrase", Input).focus()

    def set_busy(self, busy: bool) -> None:
        self.query_one("#kdf").display = busy
        self.query_one("#kdf-label").display = busy
        for widget in self.query(Input).results():
            widget.disabled = busy
        for button in self.query(Button).results():
            button.disabled = busy

    def show_error(self, text: str) -> None:
        self.query_one("#unlock-error", Label).update(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.first_run:
            inputs = list(self.query(Input).results())
            position = inputs.index(event.input)
            if position + 1 < len(inputs):
                inputs[position + 1].focus()
            else:
                self._first_run(demo=False)
        else:
            self._unlock()

    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        if not passphrase:
            self.show_error(self.t("unlock.empty"))
            return
        self.set_busy(True)
        self.show_error("")
        self.unlock(self.store_path, passphrase, self.app.now)  # type: ignore[attr-defined]

    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        self._first_run(demo=False)

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self._first_run(demo=True)

    def _first_run(self, demo: bool) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        names = [self.query_one(f"#{name}", Input).value.strip() for name in ("town", "community", "grid-name")]
        worker = self.query_one("#worker-name", Input).value.strip()
        if passphrase != self.query_one("#confirm", Input).value:
            self.show_error(self.t("unlock.mismatch"))
            return
        if not demo and (not all(names) or not worker):
            self.show_error(self.t("unlock.need_names"))
            return
        self.set_busy(True)
        self.show_error("")
        self.create(self.store_path, passphrase, names, worker, demo, self.app.now)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def unlock(self, path: Path, passphrase: str, now: Callable[[], datetime]) -> None:
        try:
            session = Session.unlock(path, passphrase, now)
        except Exception as error:
            self.post_message(self.UnlockFailed(error))
            return
        self.post_message(self.Unlocked(session))

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def create(
        self, path: Path, passphrase: str, names: list[str], worker: str, demo: bool, now: Callable[[], datetime]
    ) -> None:
        try:
            session = create_store(path, passphrase, names, worker, demo=demo, now=now)
        except Exception as error:
            self.post_message(self.UnlockFailed(error))
            return
        self.post_message(self.Unlocked(session))

    def on_unlock_screen_unlock_failed(self, message: UnlockFailed) -> None:
        self.set_busy(False)
        self.show_error(describe_error(self.t, message.error))
        passphrase = self.query_one("#passphrase", Input)
        passphrase.value = ""
        passphrase.focus()
