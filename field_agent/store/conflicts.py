"""Listing true conflicts and closing them with one local edit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.domain.envelope import DELETED, is_deleted, open_conflicts
from field_agent.store.core import StoreCore, copy_value
from field_agent.store.editing import Editor
from field_agent.store.errors import RecordNotFound, StoreError
from field_agent.store.guard import locked

OpenConflict = tuple[dict[str, Any], str, dict[str, Any]]
"""(the record's envelope, conflict id, the conflict)."""


class Conflicts:
    """The conflicts the server opened, and their resolution by a person (``Store.conflicts``)."""

    def __init__(self, core: StoreCore, editor: Editor) -> None:
        self.core = core
        self.editor = editor
        self._lock = core.lock

    @locked
    def open(self) -> list[OpenConflict]:
        """Every open conflict, by record id then conflict id (copies: the caller may keep them)."""
        table = self.core.records.documents()
        found = []
        for record_id in sorted(self.core.index.conflicted):
            envelope: dict[str, Any] = copy_value(table[record_id])
            for cid, conflict in sorted(open_conflicts(envelope).items()):
                found.append((envelope, cid, conflict))
        return found

    @locked
    def resolve(self, record_id: str, conflict_id: str, *, choice: str, value: Any = None) -> dict[str, Any]:
        """Close a conflict by keeping "mine", "theirs" or a typed "value": one local edit.

        "mine" is the side this device wrote (if neither did: the value the record holds now, or for an
        edit-vs-delete conflict, keeping the record); for a delete conflict, ``value`` true keeps it deleted."""
        self.core.check_open()
        existing = self.core.records.raw(record_id)
        if existing is None:
            raise RecordNotFound(record_id)
        conflict = existing["conflicts"].get(conflict_id)
        if conflict is None:
            raise StoreError(f"record {record_id} has no conflict {conflict_id}")
        if choice not in ("mine", "theirs", "value"):
            raise StoreError(f"choice must be mine, theirs or value, not {choice!r}")
        values = self._resolution(existing, conflict, choice, value)
        return self.editor.edit(existing, record_id, existing["kind"], existing["grid"], values, resolve=(conflict_id,))

    def _resolution(
        self, envelope: Mapping[str, Any], conflict: Mapping[str, Any], choice: str, value: Any
    ) -> dict[str, Any]:
        node = self.core.node_id
        if conflict["type"] == "value":
            sides = [conflict["winner"], conflict["loser"]]
            mine = next((s for s in sides if s["stamp"].endswith(node)), conflict["winner"])
            theirs = conflict["loser"] if mine is conflict["winner"] else conflict["winner"]
            chosen = value if choice == "value" else (mine if choice == "mine" else theirs)["value"]
            return {conflict["field"]: chosen}
        deleted_by_me = conflict["deleted"]["stamp"].endswith(node)
        keep_deleted = bool(value) if choice == "value" else deleted_by_me == (choice == "mine")
        if not keep_deleted and not is_deleted(envelope):
            return {}
        return {DELETED: keep_deleted}
