"""The key bar at the foot of every screen: the keys that work here, in the active language, each a tap target.

It replaces Textual's ``Footer``, which shows binding descriptions as declared (the app declares catalog keys) and
Textual's own English. Keys come in the order a worker needs them (``keys.shown_bindings``): how to leave the
screen first, then the screen's own keys, then the app's, so that at 80 columns what is cut off at the right is the
least needed. Tapping a key runs its action, as pressing it would.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from field_agent.tui.app_base import field_app
from field_agent.tui.keys import describe, key_display, shown_bindings


class KeyLabel(Static):
    """One key and what it does; a tap runs the binding's action on the node that declared it."""

    DEFAULT_CSS = """
    KeyLabel { width: auto; height: 1; margin-right: 1; }
    KeyLabel:hover { background: $block-hover-background; }
    KeyLabel.-disabled { text-style: dim; }
    """

    def __init__(self, node: DOMNode, binding: Binding, key: str, description: str, enabled: bool) -> None:
        super().__init__(
            Content.from_markup("[b $footer-key-foreground]$key[/] $description", key=key, description=description),
            classes="" if enabled else "-disabled",
        )
        self.node = node
        self.binding = binding
        self.enabled = enabled

    def on_click(self, event: events.Click) -> None:
        event.stop()
        if self.enabled:
            # Run by the app, as a key press would be: the action may replace the screen this label is on.
            self.app.call_later(self.app.run_action, self.binding.action, self.node)
        else:
            self.app.bell()


class KeyBar(Horizontal):
    """The keys of the screen it is on (and of its focused widget), redrawn when they change."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; width: 1fr; background: $footer-background; overflow: hidden hidden; }
    """

    def compose(self) -> ComposeResult:
        screen = self.screen
        app = field_app(self)
        for node, binding, enabled in shown_bindings(app, screen.active_bindings):
            yield KeyLabel(node, binding, key_display(app, binding), describe(app.t, binding), enabled)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self.recompose)
