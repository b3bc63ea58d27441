"""The server's short cut for a change that creates a record: the envelope ``apply_change(None, change)`` builds.

Most of a nightly push is new records (households, residents, visits). For those ``apply_change`` has nothing to
merge and no conflict to find, yet copies every value; this builds the same envelope and outcome directly.
``tests/server/test_new_record.py`` checks with hypothesis that both always agree.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from field_agent.protocol.merge import ChangeOutcome

_IMMUTABLE = (str, int, float, bool, type(None))


def create_from_change(change: Mapping[str, Any]) -> tuple[dict[str, Any], ChangeOutcome]:
    """The envelope and outcome of applying ``change`` to a record that does not exist yet."""
    fields: dict[str, Any] = {}
    stamps: dict[str, str] = {}
    for name, write in change["fields"].items():
        value = write["value"]
        # like apply_change, never share a mutable value with the change it came from
        fields[name] = value if type(value) in _IMMUTABLE else copy.deepcopy(value)
        stamps[name] = write["stamp"]
    sets = {
        name: {element: [write["stamp"], bool(write["present"])] for element, write in elements.items()}
        for name, elements in change["sets"].items()
    }
    changed = bool(fields) or any(sets.values())
    envelope = {
        "id": change["record"],
        "kind": change["kind"],
        "grid": change["grid"],
        "fields": fields,
        "stamps": stamps,
        "sets": sets,
        "conflicts": {},
    }
    return envelope, ChangeOutcome(status="applied", conflicts=[], changed=changed)
