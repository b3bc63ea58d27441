"""The command palette (ctrl+p): every action of the app and of the current screen, each with its key.

One provider lists the main screens (with their F keys), every key of the screen the palette was opened on (those
the footer hides too), and the app's own keys (lock, quit). A command is found by its name in the active language,
by the pinyin of that name (full or initials: ``sd`` finds 锁定, as the household search finds 张三 by ``zs``), or by
its key. When nothing matches, the provider says so in the active language (Textual's own "No matches found" is
English and is never reached, since a hit is always given).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode

from field_agent.store.search import name_keys
from field_agent.tui.app_base import field_app
from field_agent.tui.keys import describe, is_ours, key_display


@dataclass(frozen=True)
class Command:
    name: str
    key: str
    run: Callable[[], object]


PALETTE_ACTIONS = ("command_palette", "app.command_palette")
PINYIN_SCORE = 0.8
"""The score of a pinyin match (a fuzzy match on the name itself scores up to 1)."""


def pinyin_keys(name: str) -> set[str]:
    """What a command name answers to in pinyin: its full pinyin and its initials, per word and whole."""
    keys: set[str] = set()
    for word in [name, *name.split()]:
        keys |= {key for key in name_keys(word) if key.isascii()}
    return keys


class FieldCommands(Provider):
    """Every command of the app and of the screen the palette was opened on, in the active language."""

    def commands(self) -> list[Command]:
        """The screen's keys (its focused widget's first), then the app's: screens, lock, quit; one per action."""
        app = field_app(self.screen)
        t = app.t
        found: list[Command] = []
        seen: set[tuple[int, str]] = set()
        for active in self.screen.active_bindings.values():
            binding, node = active.binding, active.node
            if not active.enabled or not is_ours(t, binding) or binding.action in PALETTE_ACTIONS:
                continue
            if (id(node), binding.action) in seen:
                continue
            seen.add((id(node), binding.action))
            found.append(
                Command(describe(t, binding), key_display(app, binding), partial(self._run, node, binding.action))
            )
        return found

    def _run(self, node: DOMNode, action: str) -> None:
        self.app.call_later(self.app.run_action, action, node)  # as a key press would: lock cancels workers

    def help_text(self, command: Command) -> str:
        return Content(field_app(self.screen).t("palette.key", key=command.key)).markup

    @staticmethod
    def answers_to(command: Command, typed: str) -> bool:
        """Typed letters name the command by pinyin (full or initials) or by its key (``f2``, ``^l``)."""
        if not typed:
            return False
        return command.key.lower() == typed or any(key.startswith(typed) for key in pinyin_keys(command.name))

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, command.run, help=self.help_text(command))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        typed = query.strip().lower().replace(" ", "")
        hits = 0
        for command in self.commands():
            score = matcher.match(command.name)
            display: Content | str = matcher.highlight(command.name) if score > 0 else command.name
            if score <= 0 and typed.isascii() and self.answers_to(command, typed):
                score = PINYIN_SCORE
            if score > 0:
                hits += 1
                yield Hit(score, display, command.run, text=command.name, help=self.help_text(command))
        if not hits and typed:
            t = field_app(self.screen).t
            yield Hit(0.01, t("palette.no_match"), lambda: None, text=t("palette.no_match"))
