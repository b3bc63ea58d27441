"""Who may write what (the table lives in ``field_agent.domain.rights``, so the tablet offers only what the server
accepts); the server checks every pushed change against it (``push.check_change``)."""

from __future__ import annotations

from field_agent.domain.rights import (
    ANYONE,
    FREE_WRITERS,
    LEADER,
    NOBODY,
    RIGHTS,
    KindRights,
    Roles,
    conflict_field,
    may_resolve,
)

__all__ = [
    "ANYONE",
    "FREE_WRITERS",
    "LEADER",
    "NOBODY",
    "RIGHTS",
    "KindRights",
    "Roles",
    "conflict_field",
    "may_resolve",
]
