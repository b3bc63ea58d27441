"""The navigation bar: one large button per main screen plus lock, so every screen is a tap away."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button

from field_agent.tui.i18n import Translator

NAV_ITEMS: tuple[str, ...] = (
    "today",
    "households",
    "sampling",
    "isolation",
    "tasks",
    "sync",
    "ledgers",
    "settings",
)
WIDE_FROM = 120


class NavBar(Horizontal):
    """Buttons for the main screens; on wide screens each shows its function key too."""

    DEFAULT_CSS = """
    NavBar { height: 1; width: 1fr; background: $panel; }
    NavBar Button { width: 1fr; }
    NavBar Button.-current { background: $primary; color: $text; text-style: bold; }
    """

    def __init__(self, t: Translator, current: str = "") -> None:
        super().__init__(id="nav")
        self.t = t
        self.current = current

    def compose(self) -> ComposeResult:
        for name in NAV_ITEMS:
            button = Button(self.t(f"nav.{name}"), id=f"nav-{name}", action=f"app.goto('{name}')", compact=True)
            button.can_focus = False
            button.styles.line_pad = 0  # CSS cannot say 0; every cell counts at 80 columns
            if name == self.current:
                button.add_class("-current")
            yield button
        lock = Button(self.t("key.lock"), id="nav-lock", action="app.lock", compact=True, variant="warning")
        lock.can_focus = False
        lock.styles.line_pad = 0
        yield lock

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= WIDE_FROM
        for number, name in enumerate(NAV_ITEMS, start=1):
            label = self.t(f"nav.{name}")
            self.query_one(f"#nav-{name}", Button).label = f"F{number} {label}" if wide else label
