"""Records written by the town office (grids, roster imports, the demo town), stamped by the server's own clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.envelope import local_edit
from field_agent.domain.errors import ValidationError
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id
from field_agent.domain.roles import RoleConfig
from field_agent.domain.validation import validate_record
from server_stub.db.base import Database, Transaction
from server_stub.errors import RequestInvalid
from server_stub.town_config import in_force

NODE_KEY = "server_node"
CLOCK_KEY = "server_clock"


@dataclass
class Edit:
    """One office edit of one record: registers to set and set elements to add or remove."""

    kind: str
    record_id: str
    values: dict[str, Any] = field(default_factory=dict)
    set_changes: dict[str, dict[str, bool]] = field(default_factory=dict)


def server_clock(tx: Transaction) -> HybridClock:
    """The server's HLC, its node id made once per database and its last stamp persisted; the clock's entry stays
    locked until the transaction ends, so office writes from several processes or hosts stamp in turn."""
    last = tx.lock_meta(CLOCK_KEY)
    node = tx.get_meta(NODE_KEY)
    if node is None:
        node = new_node_id()
        tx.set_meta(NODE_KEY, node)
    return HybridClock(node, last=last)


def _latest_stamp(envelope: Mapping[str, Any]) -> str | None:
    stamps = list(envelope["stamps"].values())
    stamps += [entry[0] for elements in envelope["sets"].values() for entry in elements.values()]
    return max(stamps, default=None)


def write_records(db: Database, grid: str, edits: Iterable[Edit], *, validate: bool = True) -> int:
    """Apply office edits to one grid in one transaction; returns how many records changed."""
    edits = list(edits)
    roles = in_force(db).roles if validate else None  # the town configuration in force (town_config.py)
    with db.transaction(grid) as tx:
        clock = server_clock(tx)
        current = tx.get_records(edit.record_id for edit in edits)
        changed: dict[str, dict[str, Any]] = {}
        for edit in edits:
            envelope = current.get(edit.record_id)
            if envelope is not None:
                latest = _latest_stamp(envelope)
                if latest is not None:
                    clock.observe(latest)  # so the office's edit wins over devices whose clocks run ahead
            if roles is not None:
                _validate(edit, envelope, roles)
            try:
                updated, change = local_edit(
                    envelope,
                    clock,
                    record_id=edit.record_id,
                    kind=edit.kind,
                    grid=grid,
                    values=edit.values,
                    set_changes=edit.set_changes,
                )
            except ValueError as error:
                raise RequestInvalid(str(error), code="record_mismatch") from error
            if change is not None:
                current[edit.record_id] = updated
                changed.pop(edit.record_id, None)
                changed[edit.record_id] = updated
        tx.put_records(grid, changed.values())
        tx.set_meta(CLOCK_KEY, clock.last)
    return len(changed)


def _validate(edit: Edit, envelope: Mapping[str, Any] | None, roles: RoleConfig) -> None:
    from field_agent.domain.envelope import view

    values: dict[str, Any] = {**edit.values, **edit.set_changes}
    try:
        validate_record(edit.kind, values, view(envelope) if envelope is not None else None, roles=roles)
    except ValidationError as error:
        raise RequestInvalid(str(error), code="invalid_record") from error


def create_grid(db: Database, town: str, name: str, community: str | None = None, leader: str | None = None) -> str:
    """Create a grid record (its id is the grid's id) in normal mode; returns the id."""
    grid = new_id()
    values: dict[str, Any] = {"town": town, "community": community or name, "name": name, "mode": "normal"}
    if leader:
        values["leader"] = leader
    write_records(db, grid, [Edit("grid", grid, values)])
    return grid
