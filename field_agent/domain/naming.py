"""Who or what a record is about, in a person's words: a resident's name and household, a household's address, a
task's title. One rule for the conflict rows on screen and the refused changes of ``sync --json``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Lookup = Callable[[Any], Mapping[str, Any] | None]
"""A record's flat view by id, or None when it is not known here."""


def plain_address(household: Mapping[str, Any]) -> str:
    return str(household.get("address") or "")


def record_name(
    kind: str,
    record: Mapping[str, Any] | None,
    lookup: Lookup,
    address: Callable[[Mapping[str, Any]], str] = plain_address,
) -> str:
    """``name（address）`` for a resident (a follow-up's or sampling's resident too), a household's address, a
    visit's household, a task's title; empty when ``record`` is None or names nothing. ``address`` words a
    household (a screen may shorten it)."""
    if record is None:
        return ""
    if kind in ("sampling", "followup"):
        return record_name("resident", lookup(record.get("resident")), lookup, address)
    if kind == "resident":
        name = str(record.get("name") or "")
        household = record_name("household", lookup(record.get("household")), lookup, address)
        return f"{name}（{household}）" if household and name else name or household
    if kind == "household":
        return address(record)
    if kind == "visit":
        return record_name("household", lookup(record.get("household")), lookup, address)
    return str(record.get("title") or record.get("name") or "")
