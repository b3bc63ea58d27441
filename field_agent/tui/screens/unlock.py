"""Unlock (passphrase entry) and first run (enrol with the town server, create a store for a grid, or open the demo)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Label, LoadingIndicator, ProgressBar, Static

from field_agent.store.passphrase import check_passphrase
from field_agent.tui.app_base import field_app
from field_agent.tui.enrolment import enrol_new_store
from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import Translator
from field_agent.tui.session import Session
from field_agent.tui.setup import create_store, store_exists
from field_agent.tui.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from field_agent.sync.agent import SyncProgress, SyncResult


class UnlockScreen(Screen[None]):
    """Asks for the passphrase; derives the key in a thread worker while an indicator runs."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "key.quit")]

    class Unlocked(Message):
        """The store is open and its read model loaded."""

        def __init__(self, session: Session) -> None:
            super().__init__()
            self.session = session

    class FirstSyncProgressed(Message):
        """The first sync after enrolment moved on."""

        def __init__(self, progress: SyncProgress) -> None:
            super().__init__()
            self.progress = progress

    class Enrolled(Message):
        """The new store is enrolled and its first sync has run (``result`` says how it went)."""

        def __init__(self, session: Session, result: SyncResult) -> None:
            super().__init__()
            self.session = session
            self.result = result

    class UnlockFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(self, store_path: Path, opening: bool = False) -> None:
        super().__init__()
        self.store_path = store_path
        self.opening = opening
        self.first_run = not opening and not store_exists(store_path)

    @property
    def t(self) -> Translator:
        return field_app(self).t

    def compose(self) -> ComposeResult:
        t = self.t
        with Center(), Vertical(id="unlock-box", classes="-first-run" if self.first_run else ""):
            yield Static(t("app.title"), id="unlock-title")
            if self.first_run:
                yield Label(t("unlock.first_run"), id="unlock-intro")
            else:
                yield Label(t("unlock.prompt"), id="unlock-intro")
                demo_passphrase = field_app(self).demo_passphrase
                if demo_passphrase:
                    yield Label(t("unlock.demo_hint", passphrase=demo_passphrase), id="unlock-hint")
            yield Input(password=True, placeholder=t("unlock.passphrase"), id="passphrase", compact=self.first_run)
            if self.first_run:
                yield Input(password=True, placeholder=t("unlock.confirm"), id="confirm", compact=True)
                with Horizontal(id="first-run-ways"):
                    with Vertical(id="enrol-way", classes="way") as enrol:
                        enrol.border_title = t("enrol.title")
                        yield Input(placeholder=t("enrol.server"), id="server", compact=True)
                        yield Input(placeholder=t("enrol.code"), id="code", compact=True)
                        yield Button(t("enrol.start"), variant="primary", id="enrol", compact=True)
                    with Vertical(id="new-grid-way", classes="way") as new_grid:
                        new_grid.border_title = t("unlock.new_grid")
                        yield Input(placeholder=t("unlock.town"), id="town", compact=True)
                        yield Input(placeholder=t("unlock.community"), id="community", compact=True)
                        yield Input(placeholder=t("unlock.grid_name"), id="grid-name", compact=True)
                        yield Input(placeholder=t("unlock.worker_name"), id="worker-name", compact=True)
                        yield Button(t("unlock.create"), id="create", compact=True)
            yield Label("", id="unlock-error")
            yield LoadingIndicator(id="kdf")
            yield Label(t("unlock.deriving"), id="kdf-label")
            if self.first_run:
                yield ProgressBar(id="enrol-bar", show_eta=False)
            with Horizontal(id="unlock-buttons"):
                if self.first_run:
                    yield Button(t("unlock.demo"), id="demo", compact=True)
                else:
                    yield Button(t("unlock.unlock"), variant="primary", id="unlock")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_busy(self.opening)
        if not self.opening:
            self.query_one("#passphrase", Input).focus()

    def set_busy(self, busy: bool, label: str | None = None) -> None:
        self.query_one("#kdf").display = busy
        self.query_one("#kdf-label", Label).update(label or self.t("unlock.deriving"))
        self.query_one("#kdf-label").display = busy
        if self.first_run:
            self.query_one("#enrol-bar").display = busy and label is not None
        for widget in self.query(Input).results():
            widget.disabled = busy
        for button in self.query(Button).results():
            button.disabled = busy

    def show_error(self, text: str) -> None:
        self.query_one("#unlock-error", Label).update(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if not self.first_run:
            self._unlock()
        elif event.input.id == "code":
            self._enrol()
        elif event.input.id == "worker-name":
            self._first_run(demo=False)
        else:
            inputs = list(self.query(Input).results())
            inputs[(inputs.index(event.input) + 1) % len(inputs)].focus()

    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        if not passphrase:
            self.show_error(self.t("unlock.empty"))
            return
        self.set_busy(True)
        self.show_error("")
        self.unlock(self.store_path, passphrase, field_app(self).now)

    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        self._first_run(demo=False)

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self._first_run(demo=True)

    def _new_passphrase(self) -> str | None:
        """The passphrase typed twice for a new store, or None (with the reason shown) when the two differ."""
        passphrase = self.query_one("#passphrase", Input).value
        if passphrase != self.query_one("#confirm", Input).value:
            self.show_error(self.t("unlock.mismatch"))
            return None
        return passphrase

    @on(Button.Pressed, "#enrol")
    def _enrol(self) -> None:
        server = self.query_one("#server", Input).value.strip()
        code = self.query_one("#code", Input).value.strip()
        if not server or not code:
            self.show_error(self.t("enrol.need_both"))
            return
        passphrase = self._new_passphrase()
        if passphrase is None:
            return
        self.set_busy(True, self.t("enrol.enrolling"))
        self.show_error("")
        self.enrol(self.store_path, passphrase, server, code)

    def _first_run(self, demo: bool) -> None:
        names = [self.query_one(f"#{name}", Input).value.strip() for name in ("town", "community", "grid-name")]
        worker = self.query_one("#worker-name", Input).value.strip()
        passphrase = self._new_passphrase()
        if passphrase is None:
            return
        if not demo and (not all(names) or not worker):
            self.show_error(self.t("unlock.need_names"))
            return
        self.set_busy(True)
        self.show_error("")
        self.create(self.store_path, passphrase, names, worker, demo, field_app(self).now)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def unlock(self, path: Path, passphrase: str, now: Callable[[], datetime]) -> None:
        try:
            session = Session.unlock(path, passphrase, now)
            session.prefetch_today()
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

    @work(exclusive=True, exit_on_error=False, group="unlock")
    async def enrol(self, path: Path, passphrase: str, server: str, code: str) -> None:
        from field_agent.sync.agent import SyncAgent
        from field_agent.sync.enroll import enroll

        app = field_app(self)

        def progressed(progress: SyncProgress) -> None:
            self.post_message(self.FirstSyncProgressed(progress))

        try:
            # before the one-time code is spent; scoring loads word lists (~1 s the first time): off the UI thread
            await asyncio.to_thread(check_passphrase, passphrase)
            session, result = await enrol_new_store(
                path,
                passphrase,
                server,
                code,
                enroll_with=app.enroll_with or enroll,
                agent_factory=app.agent_factory or SyncAgent,
                on_progress=progressed,
                now=app.now,
            )
        except Exception as error:
            self.post_message(self.UnlockFailed(error))
            return
        self.post_message(self.Enrolled(session, result))

    def on_unlock_screen_first_sync_progressed(self, message: FirstSyncProgressed) -> None:
        progress, t = message.progress, self.t
        bar = self.query_one("#enrol-bar", ProgressBar)
        if progress.phase == "done":
            bar.update(total=1, progress=1)
        elif progress.total:
            bar.update(total=progress.total, progress=progress.done)
        label = t("enrol.syncing", phase=t.label("phase", progress.phase), done=progress.done)
        self.query_one("#kdf-label", Label).update(label)

    def on_unlock_screen_enrolled(self, message: Enrolled) -> None:
        result = message.result
        if not result.ok:
            kind = f"sync.error.{result.error_kind}"
            reason = self.t(kind) if self.t.has(kind) else escape(result.error or "")
            self.app.notify(self.t("enrol.first_sync_failed", reason=reason), severity="warning", timeout=15)
        self.post_message(self.Unlocked(message.session))

    def on_unlock_screen_unlock_failed(self, message: UnlockFailed) -> None:
        self.set_busy(False)
        self.show_error(describe_error(self.t, message.error))
        passphrase = self.query_one("#passphrase", Input)
        passphrase.value = ""
        passphrase.focus()
