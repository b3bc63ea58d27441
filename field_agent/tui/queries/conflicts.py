"""Conflicts and refused changes in a person's words: whose record (a resident's name and household, a household's
address, a task's title), and whose device made the other value (its worker's name where this device can tell)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from field_agent.domain import naming
from field_agent.domain.hlc import stamp_node
from field_agent.domain.rights import AUTHOR_FIELDS
from field_agent.store.reader import StoreReader
from field_agent.tui.model import GridModel


def record_label(model: GridModel, kind: str, record_id: str) -> str:
    """Who or what a record is about (``domain.naming.record_name``), addresses without the town and community
    every address of the grid repeats; empty when the record is not known here."""
    return naming.record_name(kind, model.get(record_id), model.get, model.short_address)


def device_workers(reader: StoreReader, nodes: Iterable[str]) -> dict[str, str]:
    """The worker of each device ``nodes`` names, as far as the records here tell (who its visits, samplings and
    follow-ups say did them); a device that wrote none of those is left out."""
    wanted = set(nodes)
    found: dict[str, str] = {}
    stored = reader.stored()
    for kind, field in AUTHOR_FIELDS.items():  # who did the work: the device that wrote it is theirs
        for record_id in reader.live_ids(kind):
            envelope: Mapping[str, Any] | None = stored.get(record_id)
            if envelope is None:
                continue
            stamp = envelope["stamps"].get(field)
            worker = envelope["fields"].get(field)
            if stamp and worker:
                node = stamp_node(stamp)
                if node in wanted and node not in found:
                    found[node] = str(worker)
            if len(found) == len(wanted):
                return found
    return found


def other_nodes(entry: Mapping[str, Any], this_node: str) -> list[str]:
    """The devices other than this one whose edits a conflict describes (``sync.conflicts.describe``), in order."""
    nodes: list[str] = []
    for node in entry.get("parties") or ():
        if node != this_node and node not in nodes:
            nodes.append(node)
    return nodes


def explain_conflicts(
    model: GridModel, reader: StoreReader, conflicts: list[dict[str, Any]], this_node: str
) -> list[dict[str, Any]]:
    """Each conflict with ``label`` (``record_label``) and ``devices``: the other devices, as ``(node, worker)``
    pairs (worker None when not known here). Blocking: call it from a worker thread."""
    others = {entry["cid"] + entry["record"]: other_nodes(entry, this_node) for entry in conflicts}
    workers = device_workers(reader, {node for nodes in others.values() for node in nodes})
    return [
        {
            **entry,
            "label": record_label(model, entry["kind"], entry["record"]),
            "devices": [(node, workers.get(node)) for node in others[entry["cid"] + entry["record"]]],
        }
        for entry in conflicts
    ]
