"""A button for an app action that may take away the screen the button is on: go to a screen, back, lock."""

from __future__ import annotations

from typing import Any

from textual.content import ContentText
from textual.widgets import Button


class AppButton(Button):
    """Runs ``app_action`` (``app.goto('sampling')``, ``app.pop_screen``, ``app.lock``) in the app's queue.

    Textual runs a button's own ``action`` in the button's message queue, and waits for it there; an action that
    removes the button's screen then waits for that very queue to finish, and the app hangs (a tap on the
    navigation bar did, from the second screen on). This button hands its action to the app, as a key press does.
    """

    def __init__(self, label: ContentText, app_action: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.app_action = app_action

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.call_later(self.app.run_action, self.app_action)
