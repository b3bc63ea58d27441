"""Priors: what an unsent change overwrote, kept on the tablet only, so a refused change can be undone.

A prior mirrors a change's shape::

    {"fields": {name: [value, stamp] | None},          # None: the register did not exist
     "sets": {name: {element: [stamp, present] | None}},
     "resolve": {conflict_id: stamp | None}}            # the conflict's "resolved" before

It holds the state from before the record's *first* unsent edit, moved forward by pulled writes the tablet
kept its own value over, so restoring it gives what the server holds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Prior = dict[str, Any]


def prior_of(existing: Mapping[str, Any] | None, change: Mapping[str, Any]) -> Prior:
    """The prior of a change made on top of ``existing`` (None for a new record)."""
    fields: dict[str, Any] = {}
    sets: dict[str, dict[str, Any]] = {}
    resolve: dict[str, Any] = {}
    for name in change["fields"]:
        if existing is not None and name in existing["stamps"]:
            fields[name] = [copy.deepcopy(existing["fields"].get(name)), existing["stamps"][name]]
        else:
            fields[name] = None
    for name, elements in change["sets"].items():
        members = existing["sets"].get(name, {}) if existing is not None else {}
        sets[name] = {element: (list(members[element]) if element in members else None) for element in elements}
    for cid in change.get("resolve", {}):
        conflict = existing["conflicts"].get(cid) if existing is not None else None
        resolve[cid] = conflict.get("resolved") if conflict else None
    return {"fields": fields, "sets": sets, "resolve": resolve}


def fold_prior(older: Mapping[str, Any] | None, newer: Mapping[str, Any] | None) -> Prior | None:
    """Two unsent changes folded into one: the older prior wins where both touched the same thing."""
    if older is None or newer is None:
        return None  # an entry queued before priors were kept cannot be undone exactly
    merged = copy.deepcopy(dict(older))
    for name, entry in newer["fields"].items():
        merged["fields"].setdefault(name, copy.deepcopy(entry))
    for name, elements in newer["sets"].items():
        target = merged["sets"].setdefault(name, {})
        for element, entry in elements.items():
            target.setdefault(element, copy.deepcopy(entry))
    for cid, stamp in newer.get("resolve", {}).items():
        merged.setdefault("resolve", {}).setdefault(cid, stamp)
    return merged


def restore_refused(
    envelope: Mapping[str, Any], change: Mapping[str, Any], prior: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The envelope with the refused change undone where it still shows; None if nothing of it shows."""
    restored = copy.deepcopy(dict(envelope))
    changed = False
    for name, write in change["fields"].items():
        if restored["stamps"].get(name) != write["stamp"]:
            continue  # written over since (a later edit here, or a pulled write): leave it
        before = prior["fields"].get(name)
        if before is None:
            restored["fields"].pop(name, None)
            restored["stamps"].pop(name, None)
        else:
            restored["fields"][name], restored["stamps"][name] = copy.deepcopy(before[0]), before[1]
        changed = True
    for name, elements in change["sets"].items():
        members = restored["sets"].get(name)
        if members is None:
            continue
        for element, write in elements.items():
            current = members.get(element)
            if current is None or current[0] != write["stamp"]:
                continue
            before = prior["sets"].get(name, {}).get(element)
            if before is None:
                del members[element]
            else:
                members[element] = list(before)
            changed = True
        if not members:
            del restored["sets"][name]
    for cid, stamp in change.get("resolve", {}).items():
        conflict = restored["conflicts"].get(cid)
        if conflict is not None and conflict.get("resolved") == stamp:
            conflict["resolved"] = prior.get("resolve", {}).get(cid)
            changed = True
    return restored if changed else None


def rebase_after_refusal(
    entry: Mapping[str, Any], refused: Mapping[str, Any], refused_prior: Mapping[str, Any]
) -> dict[str, Any]:
    """A later unsent entry of the same record, once the change it was made on top of was refused.

    Where it saw (base) or would restore (prior) the refused stamps, it now sees and restores what the
    refused change had replaced, since the server never took them."""
    updated = copy.deepcopy(dict(entry))
    change, prior = updated["change"], updated.get("prior")
    for name, write in refused["fields"].items():
        before = refused_prior["fields"].get(name)
        if change["base"].get(name) == write["stamp"]:
            if before is None:
                del change["base"][name]
            else:
                change["base"][name] = before[1]
        if prior is not None and (prior["fields"].get(name) or [None, None])[1] == write["stamp"]:
            prior["fields"][name] = copy.deepcopy(before)
    if prior is not None:
        for name, elements in refused["sets"].items():
            for element, write in elements.items():
                mine = prior["sets"].get(name, {}).get(element)
                if mine is not None and mine[0] == write["stamp"]:
                    prior["sets"][name][element] = copy.deepcopy(refused_prior["sets"].get(name, {}).get(element))
        for cid, stamp in refused.get("resolve", {}).items():
            if prior.get("resolve", {}).get(cid) == stamp:
                prior["resolve"][cid] = refused_prior.get("resolve", {}).get(cid)
    return updated


def advance_prior(prior: Mapping[str, Any] | None, remote: Mapping[str, Any]) -> Prior | None:
    """Move a prior forward past a pulled envelope's newer writes (the server holds those now); None stays None."""
    if prior is None:
        return None
    updated = copy.deepcopy(dict(prior))
    for name, before in updated["fields"].items():
        stamp = remote["stamps"].get(name)
        if stamp is not None and (before is None or stamp > before[1]):
            updated["fields"][name] = [copy.deepcopy(remote["fields"].get(name)), stamp]
    for name, elements in updated["sets"].items():
        theirs = remote["sets"].get(name, {})
        for element, before in elements.items():
            entry = theirs.get(element)
            if entry is not None and (before is None or entry[0] > before[0]):
                elements[element] = list(entry)
    for cid in updated.get("resolve", {}):
        conflict = remote["conflicts"].get(cid)
        if (
            conflict is not None
            and conflict.get("resolved")
            and (updated["resolve"][cid] is None or conflict["resolved"] > updated["resolve"][cid])
        ):
            updated["resolve"][cid] = conflict["resolved"]
    return updated
