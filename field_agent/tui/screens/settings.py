"""Settings: language, auto-lock, how long a revealed ID number stays shown, server, sync window, passphrase."""

from __future__ import annotations

import re
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from field_agent.tui.app_base import field_app
from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import LANGUAGES
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session

SYNC_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
SETTING_KEYS = ("language", "auto_lock_minutes", "reveal_seconds", "server_url", "sync_window")
REVEAL_SECONDS = (5, 300)  # how long a revealed full ID number may stay on screen


class SettingsScreen(SessionScreen):
    """ctrl+s saves the settings; the passphrase has its own button (it re-derives the key)."""

    NAV = "settings"
    BINDINGS = [Binding("ctrl+s", "save", "key.save", priority=True, id="settings.save")]

    class Loaded(Message):
        def __init__(self, values: dict[str, Any]) -> None:
            super().__init__()
            self.values = values

    class SettingsSaved(Message):
        def __init__(self, values: dict[str, Any]) -> None:
            super().__init__()
            self.values = values

    class PassphraseChanged(Message):
        pass

    class PassphraseFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def compose_body(self) -> ComposeResult:
        t = self.t
        with VerticalScroll(id="settings-body"):
            with Grid(classes="form"):
                yield Label(t("settings.language"))
                yield Select(
                    [(t(f"language.{code}"), code) for code in LANGUAGES],
                    id="language",
                    allow_blank=False,
                    value=t.language,
                    compact=True,
                )
                yield Label(t("settings.auto_lock"))
                yield Input(id="auto_lock_minutes", type="integer", compact=True)
                yield Label(t("settings.reveal_seconds"))
                yield Input(id="reveal_seconds", type="integer", compact=True)
                yield Label(t("settings.server"))
                yield Input(id="server_url", placeholder="https://town.example:8443", compact=True)
                yield Label(t("settings.sync_window"))
                yield Input(id="sync_window", placeholder="22:00-06:00", compact=True)
            with Horizontal(classes="actions"):
                yield Button(t("key.save"), variant="primary", id="save-settings")
            yield Static("", id="settings-status")
            yield Static(t("settings.passphrase"), classes="section-title")
            with Grid(classes="form"):
                yield Label(t("settings.old"))
                yield Input(id="old", password=True, compact=True)
                yield Label(t("settings.new"))
                yield Input(id="new", password=True, compact=True)
                yield Label(t("settings.confirm"))
                yield Input(id="confirm", password=True, compact=True)
            with Horizontal(classes="actions"):
                yield Button(t("settings.change_passphrase"), id="change-passphrase")
            yield Static("", id="passphrase-status")

    def on_mount(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        self.post_message(self.Loaded({key: session.setting(key) for key in SETTING_KEYS}))

    def on_settings_screen_loaded(self, message: SettingsScreen.Loaded) -> None:
        values = message.values
        self.query_one("#auto_lock_minutes", Input).value = str(values.get("auto_lock_minutes") or 5)
        self.query_one("#reveal_seconds", Input).value = str(int(float(values.get("reveal_seconds") or 30)))
        self.query_one("#server_url", Input).value = str(values.get("server_url") or "")
        self.query_one("#sync_window", Input).value = str(values.get("sync_window") or "")

    @on(Button.Pressed, "#save-settings")
    def action_save(self) -> None:
        t = self.t
        minutes_text = self.query_one("#auto_lock_minutes", Input).value.strip()
        window = self.query_one("#sync_window", Input).value.strip()
        status = self.query_one("#settings-status", Static)
        if not minutes_text.isdigit() or not 1 <= int(minutes_text) <= 120:
            status.update(t("settings.bad_minutes"))
            return
        reveal_text = self.query_one("#reveal_seconds", Input).value.strip()
        if not reveal_text.isdigit() or not REVEAL_SECONDS[0] <= int(reveal_text) <= REVEAL_SECONDS[1]:
            status.update(t("settings.bad_reveal_seconds", low=REVEAL_SECONDS[0], high=REVEAL_SECONDS[1]))
            return
        if window and not SYNC_WINDOW.match(window):
            status.update(t("settings.bad_window"))
            return
        server = self.query_one("#server_url", Input).value.strip()
        if server and not server.startswith(("http://", "https://")):
            status.update(t("settings.bad_server"))
            return
        values = {
            "language": self.query_one("#language", Select).value,
            "auto_lock_minutes": int(minutes_text),
            "reveal_seconds": int(reveal_text),
            "server_url": server,
            "sync_window": window,
        }
        self.save(self.session, values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def save(self, session: Session, values: dict[str, Any]) -> None:
        for key, value in values.items():
            session.set_setting(key, value)
        self.post_message(self.SettingsSaved(values))

    def on_settings_screen_settings_saved(self, message: SettingsScreen.SettingsSaved) -> None:
        app = field_app(self)
        app.auto_lock_seconds = float(message.values["auto_lock_minutes"]) * 60
        language = str(message.values["language"])
        if language != self.t.language:
            app.explicit_language = None
            app.set_language(language)
            app.call_later(app.goto, "settings")  # this screen is replaced: never await that from inside it
            return
        self.query_one("#settings-status", Static).update(self.t("settings.saved"))

    @on(Button.Pressed, "#change-passphrase")
    def _change_passphrase(self) -> None:
        old, new, confirm = (self.query_one(f"#{name}", Input).value for name in ("old", "new", "confirm"))
        status = self.query_one("#passphrase-status", Static)
        if new != confirm:
            status.update(self.t("unlock.mismatch"))
            return
        status.update(self.t("settings.changing"))
        self.query_one("#change-passphrase", Button).disabled = True
        self.change(self.session, old, new)

    @work(thread=True, exclusive=True, exit_on_error=False, group="passphrase")
    def change(self, session: Session, old: str, new: str) -> None:
        try:
            session.change_passphrase(old, new)
        except Exception as error:
            self.post_message(self.PassphraseFailed(error))
            return
        self.post_message(self.PassphraseChanged())

    def on_settings_screen_passphrase_changed(self) -> None:
        self.query_one("#change-passphrase", Button).disabled = False
        for name in ("old", "new", "confirm"):
            self.query_one(f"#{name}", Input).value = ""
        self.query_one("#passphrase-status", Static).update(self.t("settings.passphrase_changed"))

    def on_settings_screen_passphrase_failed(self, message: PassphraseFailed) -> None:
        self.query_one("#change-passphrase", Button).disabled = False
        self.query_one("#passphrase-status", Static).update(describe_error(self.t, message.error))
