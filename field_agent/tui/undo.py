"""Undo for the one-key saves (a sampling mark, a visit outcome): a toast says what was saved and that Ctrl+Z undoes
it for a few seconds.

Undoing is a new local edit through the store, never a rewrite of history: the record gets its previous values back
(a record the save created is deleted), so the undo syncs like any edit. One offer at a time, held by the app, so
the key works on whatever screen follows the save (the visit screen closes as it saves).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from field_agent.domain.schema import IDENTITY_KEYS, SCHEMAS
from field_agent.tui.session import Session

UNDO_KEY = "ctrl+z"
UNDO_SECONDS = 8.0
"""How long an undo is offered (and its toast shown)."""

Restore = Callable[[Session], Any]
"""Puts the previous values back (blocking: runs in a worker thread)."""


@dataclass(frozen=True)
class UndoOffer:
    """What was saved (``what``, named again once undone), how to put it back, and until when (the app's idle
    clock)."""

    what: str
    restore: Restore
    until: float


def restore_values(kind: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> Restore:
    """How to undo a save of a ``kind`` record that turned ``before`` (a view; None: it did not exist) into
    ``after`` (its view): the fields that changed get their previous values, or the new record is deleted."""
    record_id = after["id"]
    if before is None:
        return lambda session: session.delete(record_id)
    schema = SCHEMAS[kind]
    previous: dict[str, Any] = {}
    for name, spec in schema.items():
        if name in IDENTITY_KEYS or before.get(name) == after.get(name):
            continue
        previous[name] = list(before.get(name) or ()) if spec.is_set else before.get(name)
    return lambda session: session.save(kind, previous, record_id=record_id)
