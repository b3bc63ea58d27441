"""Key bindings as the worker sees them: each binding's description in the active language, its key's name.

Bindings are declared with a catalog key as their description (``Binding("v", "visit", "key.visit")``) and are
never rewritten: the app's key bar (``widgets/keybar.py``) and its command palette (``commands.py``) translate them
when they draw them. Textual's own widgets declare English descriptions; the few that reach a worker's screen are
translated through the catalog too (``TEXTUAL_STRINGS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual.app import App
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode

from field_agent.tui.i18n import Translator

TEXTUAL_STRINGS: dict[str, str] = {
    "Dismiss menu": "textual.dismiss_menu",
    "Show menu": "textual.show_menu",
    "palette": "key.palette",
    "Open the command palette": "key.palette",
}
"""Descriptions of Textual's own bindings that can be shown to a worker, and their catalog keys."""

SHOWN_FIRST = ("escape", "ctrl+s")
"""Keys shown before all others, wherever they come from: how to leave the screen or dialog, how to save."""
SHOWN_LAST = ("quit",)
"""Actions shown after all others (the app's quit is always ctrl+q and is the first to be cut at 80 columns)."""


def describe(t: Translator, binding: Binding) -> str:
    """A binding's description in the active language (a catalog key, or one of Textual's own strings)."""
    description = binding.description
    if t.has(description):
        return t(description)
    key = TEXTUAL_STRINGS.get(description)
    return t(key) if key is not None else description


def is_ours(t: Translator, binding: Binding) -> bool:
    """Whether the app declared this binding (its description is a catalog key), rather than a Textual widget."""
    return bool(binding.description) and t.has(binding.description)


def key_display(app: App[Any], binding: Binding) -> str:
    """How the key is written on screen (``^s``, ``esc``, ``F2``)."""
    shown = app.get_key_display(binding)
    return shown.upper() if len(shown) <= 3 and shown.lower().startswith("f") and shown[1:].isdigit() else shown


def shown_bindings(app: App[Any], screen_bindings: dict[str, ActiveBinding]) -> Iterator[tuple[DOMNode, Binding, bool]]:
    """The bindings a key bar shows, one per action, in the order a worker needs them: how to leave, the
    screen's own keys (as declared, a focused widget's first), then the app's (palette, lock, quit)."""
    seen: set[tuple[int, str]] = set()
    ranked: list[tuple[int, int, DOMNode, Binding, bool]] = []
    for position, active in enumerate(screen_bindings.values()):
        node, binding, enabled = active.node, active.binding, active.enabled
        if not binding.show or (id(node), binding.action) in seen:
            continue
        seen.add((id(node), binding.action))
        if binding.key in SHOWN_FIRST:
            rank = SHOWN_FIRST.index(binding.key)
        elif binding.action in SHOWN_LAST:
            rank = 4
        elif node is app:
            rank = 3
        else:
            rank = 2
        ranked.append((rank, position, node, binding, enabled))
    for _rank, _position, node, binding, enabled in sorted(ranked, key=lambda item: item[:2]):
        yield node, binding, enabled
