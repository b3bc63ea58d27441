"""The app as its screens and widgets see it: what they read (language, session, clocks, sync seams) and call.

``FieldAgentApp`` (``field_agent.tui.app``) is the one subclass; it imports the screens, so the screens cannot
import it back. They reach it through ``field_app(node)``, a checked, typed ``node.app``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from field_agent.sync.agent import SyncAgent, SyncProgress
from field_agent.tui.enrolment import AgentFactory, EnrollFunction
from field_agent.tui.errors import describe_error
from field_agent.tui.i18n import Translator
from field_agent.tui.session import Session
from field_agent.tui.sync_run import SyncFinished, SyncWatcher, result_text
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
    sync_agent: SyncAgent | None = None
    """The agent of the sync that is running, if one is (``start_sync``)."""

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

    # ----------------------------------------------------------------- sync
    def start_sync(self) -> bool:
        """Start a sync of the unlocked store; False when one is already running or the store is locked. It runs
        as the app's worker, so it goes on when the worker leaves the Sync screen (``tui.sync_run``)."""
        session = self.session
        if self.sync_agent is not None or session is None or session.store is None:
            return False
        self.sync_agent = (self.agent_factory or SyncAgent)(session.store)
        self.run_sync(self.sync_agent, session)
        return True

    def stop_sync(self) -> None:
        """Ask the running sync to stop at its next safe point."""
        if self.sync_agent is not None:
            self.sync_agent.request_stop()

    @work(exclusive=True, exit_on_error=False, group="sync")
    async def run_sync(self, agent: SyncAgent, session: Session) -> None:
        try:
            result = await agent.sync(on_progress=self._sync_progressed)
            await asyncio.to_thread(session.load)
        finally:
            self.sync_agent = None
        self.post_message(SyncFinished(result))

    def _sync_progressed(self, progress: SyncProgress) -> None:
        if isinstance(self.screen, SyncWatcher):
            self.screen.sync_progressed(progress)

    def on_sync_finished(self, message: SyncFinished) -> None:
        result, screen = message.result, self.screen
        if isinstance(screen, SyncWatcher):
            screen.sync_finished(result)
            return
        # the worker went on to another screen: say how it ended there, and show what was pulled
        self.notify(result_text(self.t, result), severity="error" if result.error else "information", timeout=8)
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
