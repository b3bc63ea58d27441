"""The app as its screens and widgets see it: what they read (language, session, clocks, sync seams) and call.

``FieldAgentApp`` (``field_agent.tui.app``) is the one subclass; it imports the screens, so the screens cannot
import it back. They reach it through ``field_app(node)``, a checked, typed ``node.app``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from field_agent.tui.enrolment import AgentFactory, EnrollFunction
from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import Translator
from field_agent.tui.session import Session
from field_agent.tui.undo import UNDO_KEY, UNDO_SECONDS, Restore, UndoOffer


@runtime_checkable
class Reloadable(Protocol):
    def reload(self) -> None: ...


class FieldAppBase(App[None]):
    """The app's state and navigation that screens and widgets use; ``FieldAgentApp`` sets every attribute."""

    BINDINGS = [Binding(UNDO_KEY, "undo", "key.undo", show=False)]

    t: Translator
    """Messages in the current language (replaced on a language change)."""
    session: Session | None
    """The unlocked store's session; None while locked."""
    now: Callable[[], datetime]
    idle_clock: Callable[[], float]
    auto_lock_seconds: float
    explicit_language: str | None
    """``--lang``, if given: wins over the store's setting until the worker picks a language in Settings."""
    demo_passphrase: str | None
    agent_factory: AgentFactory | None
    """Builds the sync agent of a store; None: ``SyncAgent`` itself."""
    enroll_with: EnrollFunction | None
    """Enrols a new store on first run; None: ``field_agent.sync.enroll.enroll``."""

    undo_offer: UndoOffer | None = None
    """The save that Ctrl+Z undoes now, if any (``offer_undo``)."""

    def require_session(self) -> Session:
        """The unlocked session; RuntimeError while the store is locked."""
        if self.session is None:
            raise RuntimeError("the store is locked")
        return self.session

    def offer_undo(self, saved: str, what: str, restore: Restore) -> None:
        """Say what was saved (``saved``), in a toast that offers Ctrl+Z to undo it for a few seconds; ``what``
        names it once undone (``tui.undo``)."""
        self.undo_offer = UndoOffer(what, restore, self.idle_clock() + UNDO_SECONDS)
        self.notify(self.t("undo.offer", saved=saved, key=self.t("undo.key")), timeout=UNDO_SECONDS)

    def action_undo(self) -> None:
        """Ctrl+Z: undo the last one-key save while its offer lasts."""
        offer, self.undo_offer = self.undo_offer, None
        if offer is None or self.idle_clock() > offer.until or self.session is None:
            self.notify(self.t("undo.nothing"), severity="warning")
            return
        self.run_undo(self.session, offer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="undo")
    def run_undo(self, session: Session, offer: UndoOffer) -> None:
        try:
            offer.restore(session)
        except Exception as error:
            self.call_from_thread(self.notify, describe_error(self.t, error), severity="error", timeout=10)
            return
        self.call_from_thread(self._undone, offer)

    def _undone(self, offer: UndoOffer) -> None:
        self.notify(self.t("undo.done", what=offer.what))
        for screen in self.screen_stack:
            if isinstance(screen, Reloadable):
                screen.reload()

    async def goto(self, name: str) -> None:
        """Show one of the main screens, closing any detail screens above it."""
        raise NotImplementedError

    def set_language(self, language: str) -> None:
        """Switch every message and key name to ``language``."""
        raise NotImplementedError


def field_app(node: DOMNode) -> FieldAppBase:
    """The app ``node`` runs in, typed; a node of the Field Agent runs in no other app."""
    app = node.app
    if not isinstance(app, FieldAppBase):
        raise TypeError(f"{type(node).__name__} runs in {type(app).__name__}, not the Field Agent app")
    return app
