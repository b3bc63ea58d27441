"""The navigation bar: one large button per main screen plus lock, so every screen is a tap away."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button

from field_agent.tui.i18n import Translator
from field_agent.tui.screens import MAIN_SCREENS
from field_agent.tui.widgets.app_button import AppButton

NAV_ITEMS: tuple[str, ...] = tuple(MAIN_SCREENS)
"""The main screens in the order of their F keys (F1 Today ... F8 Settings): the one list of them."""
WIDE_FROM = 120
"""From this many columns a screen is ``-wide`` (a tablet's 160x48), below it ``-narrow`` (an 80x24 terminal)."""


class NavBar(Horizontal):
    """Buttons for the main screens, each with its function key (F1 ... F8), and lock: at 80 columns too, so every
    screen shows how to reach the others; a tap on a button goes there.

    The buttons share the bar equally when every label fits its share (a tablet, or Chinese at 80 columns); else
    each is as wide as its label, and the key loses its space (``F4Isolation``, English at 80 columns).
    """

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
        for number, name in enumerate(NAV_ITEMS, start=1):
            button = AppButton(self.label(number, name, " "), f"app.goto('{name}')", id=f"nav-{name}", compact=True)
            button.can_focus = False
            button.styles.line_pad = 0  # CSS cannot say 0; every cell counts at 80 columns
            if name == self.current:
                button.add_class("-current")
            yield button
        lock = AppButton(self.t("key.lock"), "app.lock", id="nav-lock", compact=True, variant="warning")
        lock.can_focus = False
        lock.styles.line_pad = 0
        yield lock

    def label(self, number: int, name: str, gap: str) -> Content:
        return Content.from_markup("[b]$key[/b]$gap$name", key=f"F{number}", gap=gap, name=self.t(f"nav.{name}"))

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        lock = self.query_one("#nav-lock", Button).outer_size.width or cell_len(self.t("key.lock")) + 2
        count = len(NAV_ITEMS)
        spaced = [self.label(n, name, " ") for n, name in enumerate(NAV_ITEMS, start=1)]
        packed = [self.label(n, name, "") for n, name in enumerate(NAV_ITEMS, start=1)]
        equal = max(label.cell_length for label in spaced) + 1 <= (width - lock) // count
        # Labels as wide as they are, one cell apart (none before the lock button, which has its own colour).
        labels = spaced if sum(label.cell_length for label in spaced) + count - 1 + lock <= width else packed
        for number, name in enumerate(NAV_ITEMS, start=1):
            button = self.query_one(f"#nav-{name}", Button)
            label = spaced[number - 1] if equal else labels[number - 1]
            button.label = label
            # A button's automatic width adds two cells around its label: at 80 columns, exactly the label.
            button.styles.width = "1fr" if equal else label.cell_length
            button.styles.margin = (0, 0) if equal or number == count else (0, 1, 0, 0)
            button.styles.padding = (0, 1) if equal else (0, 0)
