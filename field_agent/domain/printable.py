"""Text made safe for a terminal: control characters shown as visible escapes, never sent as themselves.

A record value can hold anything a tablet or a script pushed, including ``ESC ] 0 ; title BEL`` (sets the window
title) or CSI sequences (clear the screen, move the cursor, recolour). Every C0 and C1 control character except
newline and tab, and DEL, is written as ``\\x1b``-style text, so it is seen, not obeyed. JSON output needs none of
this: JSON escapes control characters itself.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def inert(text: str) -> str:
    """``text`` with every control character but newline and tab replaced by its visible escape."""
    if text.isprintable():  # the common case, checked in C
        return text
    return _CONTROLS.sub(_escaped, text)


def inert_line(text: str) -> str:
    """Like ``inert``, for a one-line message: newlines and tabs are escaped too."""
    return inert(text).replace("\n", "\\n").replace("\t", "\\t")


def inert_values(value: Any) -> Any:
    """``value`` with every string inside it (dicts, lists, tuples, sets, dataclasses) made inert; the same object
    when nothing needed it."""
    kind = value.__class__
    if kind is str:
        return inert(value)
    if kind is dict:
        changed = {key: inert_values(item) for key, item in value.items()}
        return value if all(changed[key] is value[key] for key in value) else changed
    if kind in (list, tuple, set, frozenset):
        items = [inert_values(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else kind(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            if not field.init:
                continue
            current = getattr(value, field.name)
            made = inert_values(current)
            if made is not current:
                changes[field.name] = made
        return dataclasses.replace(value, **changes) if changes else value
    return value


def inert_record(record: dict[str, Any]) -> dict[str, Any]:
    """A flat record view with its strings made inert: the same dict, checked in one quick pass, when it holds no
    control character (nearly always); a cleaned copy otherwise."""
    for value in record.values():
        kind = value.__class__
        if kind is str:
            if not value.isprintable():
                return inert_values(record)
        elif kind is list:
            for item in value:
                if item.__class__ is not str or not item.isprintable():
                    return inert_values(record)
        elif kind is not int and value is not None and kind is not bool:
            return inert_values(record)
    return record
