"""What the app's modal forms share: translated key hints, Escape to cancel, Ctrl+S to save."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button

from field_agent.tui.app_base import field_app
from field_agent.tui.i18n import Translator


class FormDialog(ModalScreen[dict[str, Any] | None]):
    """A modal form that dismisses with its values, or None when cancelled (Escape or its ``#cancel`` button);
    subclasses define ``action_save``."""

    BINDINGS = [
        Binding("escape", "cancel", "key.cancel"),
        Binding("ctrl+s", "save", "key.save", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()

    @property
    def t(self) -> Translator:
        return field_app(self).t

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
