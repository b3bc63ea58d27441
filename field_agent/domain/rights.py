"""Who may write what: for each record kind, which device roles may create it, edit which fields, delete it, and
close its conflicts. The town server checks every pushed change against this table (``server_stub.push``); the
tablet reads the same table to offer a person only what the server will accept (``may_resolve``).

Device roles are the enrolment code's (``enrolment.ROLES``): ``leader`` (the grid leader's tablet) and ``worker``.
The town office writes through ``field-server`` commands on the server itself and is not limited by this table.
A kind missing from ``RIGHTS`` (``config``, which the protocol names but no tablet writes) is refused outright.
Closing a conflict (``resolve``) needs the right to write the conflict's field; a deletion conflict's field is
``_deleted``, so closing it needs the right to delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from field_agent.domain.envelope import DELETED

Roles = frozenset[str]
LEADER: Roles = frozenset({"leader"})
ANYONE: Roles = frozenset({"leader", "worker"})
NOBODY: Roles = frozenset()


@dataclass(frozen=True, slots=True)
class KindRights:
    """``create``: who may send a record of this kind the server does not hold yet (all its fields then);
    ``edit``: who may write any field not named in ``fields``; ``fields``: fields with their own rule;
    ``delete``: who may write ``_deleted`` (delete, or bring back)."""

    create: Roles
    edit: Roles
    delete: Roles
    fields: Mapping[str, Roles] = field(default_factory=dict)

    def writers(self, name: str) -> Roles:
        """Who may write field (or set) ``name`` of an existing record."""
        if name == DELETED:
            return self.delete
        return self.fields.get(name, self.edit)


_FIELD_WORK = KindRights(create=ANYONE, edit=ANYONE, delete=ANYONE)

RIGHTS: dict[str, KindRights] = {
    # the grid record is the leader's: its name, town, roles, mode and its existence; the office creates it
    "grid": KindRights(create=NOBODY, edit=LEADER, delete=LEADER),
    "household": _FIELD_WORK,
    "resident": _FIELD_WORK,
    "visit": _FIELD_WORK,
    "sampling": _FIELD_WORK,
    "followup": _FIELD_WORK,
    # any tablet starts and closes a round (the sampling screen); only the leader removes one
    "sampling_round": KindRights(create=ANYONE, edit=ANYONE, delete=LEADER),
    # the leader assigns tasks; a worker reports on them (status, notes, buildings covered) and may raise a new one
    # (an isolation check with a fever makes a task for the leader)
    # a campaign reaches the grid from the town office (field-server campaign create/close); tablets only read it
    "campaign": KindRights(create=NOBODY, edit=NOBODY, delete=NOBODY),
    # a worker's result for one of a campaign's targets: field work like a visit
    "campaign_result": _FIELD_WORK,
    "task": KindRights(
        create=ANYONE,
        edit=LEADER,
        delete=LEADER,
        fields={"status": ANYONE, "notes": ANYONE, "coverage": ANYONE},
    ),
}


AUTHOR_FIELDS: dict[str, str] = {"visit": "worker", "sampling": "by", "followup": "by", "campaign_result": "by"}
"""Per kind, the field that names the worker who did the work. A worker's tablet records its own work, so it may
write only its own worker's name there; the leader's tablet may record work done by any member of the grid (a
colleague without a tablet). The tablet also reads it to tell whose device made a value (``tui.queries.conflicts``)."""

AUTHORS_FOR_OTHERS: Roles = LEADER
"""Device roles that may name another worker in an author field."""


def _free(rights: KindRights) -> Roles:
    free = rights.edit & rights.delete
    for roles in rights.fields.values():
        free &= roles
    return free


FREE_WRITERS: dict[str, Roles] = {kind: _free(rights) for kind, rights in RIGHTS.items()}
"""Per kind, the roles that may write every field and delete: their edits need no field-by-field check."""


def conflict_field(conflict_id: str, conflicts: Mapping[str, Mapping[str, object]]) -> str:
    """The field a conflict is about: from the record's conflict, else from its id (``field@stamp``)."""
    conflict = conflicts.get(conflict_id)
    if conflict is not None and isinstance(conflict.get("field"), str):
        return str(conflict["field"])
    return conflict_id.rsplit("@", 1)[0]


def may_resolve(role: str, kind: str, field: str) -> bool:
    """Whether a device of ``role`` may close a conflict on ``field`` of a ``kind`` record (a deletion conflict's
    field is ``_deleted``): the server refuses the resolution otherwise."""
    rights = RIGHTS.get(kind)
    return rights is not None and role in rights.writers(field)
