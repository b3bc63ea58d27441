"""Who may write what: for each record kind, which device roles may create it, edit which fields, delete it, and
close its conflicts. The town server checks every pushed change against this table (``server_stub.push``); the
tablet reads the same table to offer a person only what the server will accept (``may_resolve``).

Device roles are the enrolment code's (``enrolment.ROLES``): ``leader`` (the grid leader's tablet) and ``worker``,
the grid's own staff; and the temporary members a grid takes in during an outbreak, enrolled until an end date
(``TEMPORARY_ROLES``): ``cadre`` (下沉干部, a cadre sent down: like a worker, but never deletes), ``volunteer``
(志愿者: visits and campaign results) and ``sampling_team`` (流动采样队: samplings). A temporary member never
edits the grid record, never deletes, never writes a resident's ID number or phones, reports only on tasks
assigned to them (``server_stub.push.check_assigned``) and records only their own work (``AUTHOR_FIELDS``).
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
"""The grid's own staff (the table in docs/SERVER.md calls them "all")."""
NOBODY: Roles = frozenset()
CADRE: Roles = frozenset({"cadre"})
VOLUNTEER: Roles = frozenset({"volunteer"})
SAMPLING_TEAM: Roles = frozenset({"sampling_team"})
TEMPORARY_ROLES: tuple[str, ...] = ("cadre", "volunteer", "sampling_team")
"""Device roles of temporary members: enrolled with an end date, limited rights, a limited pull."""
TEMPORARY: Roles = frozenset(TEMPORARY_ROLES)
DEVICE_ROLES: tuple[str, ...] = ("leader", "worker", *TEMPORARY_ROLES)
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {"resident": ("id_number", "phone", "phone2"), "household": ("phone",)}
"""Fields only the grid's own staff write: a temporary member reads them (to reach people) but never changes them."""


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


def _field_work(temporary: Roles) -> KindRights:
    """Work in the field: the grid's staff write and delete it; the given temporary roles record and edit it."""
    return KindRights(create=ANYONE | temporary, edit=ANYONE | temporary, delete=ANYONE)


def _people(kind: str) -> KindRights:
    """Households and residents: the staff's; a cadre corrects them (never their ID number or phones)."""
    return KindRights(
        create=ANYONE,
        edit=ANYONE | CADRE,
        delete=ANYONE,
        fields={name: ANYONE for name in PERSONAL_FIELDS[kind]},
    )


REPORTS: Roles = ANYONE | TEMPORARY
RIGHTS: dict[str, KindRights] = {
    # the grid record is the leader's: its name, town, roles, mode and its existence; the office creates it
    "grid": KindRights(create=NOBODY, edit=LEADER, delete=LEADER),
    "household": _people("household"),
    "resident": _people("resident"),
    "visit": _field_work(CADRE | VOLUNTEER),
    "sampling": _field_work(CADRE | SAMPLING_TEAM),
    "followup": _field_work(CADRE),
    # any tablet of the staff (and the sampling team's) starts and closes a round; only the leader removes one
    "sampling_round": KindRights(create=ANYONE | SAMPLING_TEAM, edit=ANYONE | SAMPLING_TEAM, delete=LEADER),
    # a campaign reaches the grid from the town office (field-server campaign create/close); tablets only read it
    "campaign": KindRights(create=NOBODY, edit=NOBODY, delete=NOBODY),
    # the leader assigns tasks; a worker reports on them (status, notes, buildings covered) and may raise a new one
    # (an isolation check with a fever makes a task for the leader); a temporary member reports on the tasks
    # assigned to them (``server_stub.push.check_assigned``), a cadre also raises one
    "task": KindRights(
        create=ANYONE | CADRE,
        edit=LEADER,
        delete=LEADER,
        fields={"status": REPORTS, "notes": REPORTS, "coverage": REPORTS},
    ),
    # a campaign's per-target result (the campaigns' kind): recorded by whoever carries the campaign out
    "campaign_result": _field_work(TEMPORARY),
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


def is_temporary(role: str) -> bool:
    """Whether a device role is a temporary member's (enrolled until an end date)."""
    return role in TEMPORARY


def may_resolve(role: str, kind: str, field: str) -> bool:
    """Whether a device of ``role`` may close a conflict on ``field`` of a ``kind`` record (a deletion conflict's
    field is ``_deleted``): the server refuses the resolution otherwise."""
    rights = RIGHTS.get(kind)
    return rights is not None and role in rights.writers(field)
