"""The app as its screens and widgets see it: what they read (language, session, clocks, sync seams) and call.

``FieldAgentApp`` (``field_agent.tui.app``) is the one subclass; it imports the screens, so the screens cannot
import it back. They reach it through ``field_app(node)``, a checked, typed ``node.app``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import App
from textual.dom import DOMNode

from field_agent.tui.enrolment import AgentFactory, EnrollFunction
from field_agent.tui.i18n import Translator
from field_agent.tui.session import Session


class FieldAppBase(App[None]):
    """The app's state and navigation that screens and widgets use; ``FieldAgentApp`` sets every attribute."""

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

    def require_session(self) -> Session:
        """The unlocked session; RuntimeError while the store is locked."""
        if self.session is None:
            raise RuntimeError("the store is locked")
        return self.session

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
