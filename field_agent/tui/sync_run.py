"""A sync run belongs to the app, not to the Sync screen: it goes on while the worker moves to another screen.

The app starts it (``FieldAppBase.start_sync``) and tells the screen that watches it, if one is shown, of each step
and of the end (``SyncWatcher``); on any other screen the end is a toast, and the screen reloads what was pulled.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.markup import escape
from textual.message import Message

from field_agent.domain.printable import inert
from field_agent.sync.agent import SyncProgress, SyncResult
from field_agent.tui.i18n import Translator


class SyncFinished(Message):
    """A sync run ended (posted to the app, whichever screen is shown)."""

    def __init__(self, result: SyncResult) -> None:
        super().__init__()
        self.result = result


@runtime_checkable
class SyncWatcher(Protocol):
    """A screen that shows a running sync (the Sync screen)."""

    def sync_progressed(self, progress: SyncProgress) -> None: ...

    def sync_finished(self, result: SyncResult) -> None: ...


def result_text(t: Translator, result: SyncResult) -> str:
    """What a finished sync did, or why it failed, in the worker's language (Rich markup, values escaped)."""
    if result.error:
        reason = t(f"sync.error.{result.error_kind}") if t.has(f"sync.error.{result.error_kind}") else ""
        text = t("sync.failed", reason=reason or escape(inert(result.error)))
        if result.error_kind not in ("offline",) and t.language == "en":
            # the agent's own words add facts for IT, in English: only on an English screen
            text += f"\n[dim]{escape(inert(result.error))}[/dim]"
        return text
    text = t(
        "sync.done",
        pushed=result.pushed,
        pulled=result.pulled,
        conflicts=result.conflicts,
        seconds=f"{result.duration_s:.1f}",
    )
    if result.refused:
        text += "\n" + t.n("sync.refused", result.refused)
    return text
