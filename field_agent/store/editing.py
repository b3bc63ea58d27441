"""Local edits: create, change, delete and conflict-closing writes, each stamped, saved and queued for sync."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.domain.campaigns.results import check_result_record
from field_agent.domain.envelope import DELETED, local_edit, set_members, view
from field_agent.domain.errors import ValidationError
from field_agent.domain.ids import new_id
from field_agent.domain.validation import check_home, merged_view, normalize_values, validate_record
from field_agent.store.core import StoreCore, copy_value
from field_agent.store.errors import HouseholdNotEmpty, RecordNotFound, StoreError
from field_agent.store.guard import locked
from field_agent.store.rollback import prior_of
from field_agent.store.town import town_roles

# Set fields per kind (docs/RECORDS.md): a list given for one of these replaces its members.
SET_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("tags",),
    "resident": ("special_groups",),
    "task": ("coverage",),
}
IDENTITY_FIELDS = ("id", "kind", "grid")

Envelope = dict[str, Any]
SetChanges = Mapping[str, Mapping[str, bool]]


class Editor:
    """Every local write of records goes through here (``Store.put``/``delete``, conflict resolution)."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self._lock = core.lock

    @locked
    def put(
        self,
        kind: str,
        values: Mapping[str, Any],
        *,
        record_id: str | None = None,
        grid: str | None = None,
        set_changes: SetChanges | None = None,
    ) -> Envelope:
        """Create or edit a record (only the given fields); durable and queued for sync when it returns."""
        self.core.check_open()
        existing = self.core.records.raw(record_id) if record_id else None
        fields, changes = self._prepare(kind, values, set_changes, existing)
        if existing is not None:
            if existing["kind"] != kind:
                raise StoreError(f"record {record_id} is a {existing['kind']}, not a {kind}")
            grid = existing["grid"]
        grid = grid or self.core.meta_get("grid")
        if not grid:
            raise StoreError("no grid for this record: create the store with --grid or enrol the device first")
        return self.edit(existing, record_id or new_id(), kind, grid, fields, changes)

    def _prepare(
        self,
        kind: str,
        values: Mapping[str, Any],
        set_changes: SetChanges | None,
        existing: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, dict[str, bool]]]:
        reserved = [name for name in values if name in IDENTITY_FIELDS or name.startswith("_")]
        if reserved:
            raise StoreError(f"field(s) {', '.join(sorted(reserved))} cannot be set directly")
        fields = normalize_values(kind, dict(values))
        proposed = {**fields, **{name: dict(elements) for name, elements in (set_changes or {}).items()}}
        # roles and groups as the town configuration in force has them (what the record holds stays valid)
        roles = town_roles(self.core)
        validate_record(kind, proposed, view(existing) if existing is not None else None, roles=roles)
        if kind == "campaign_result":
            self._check_result(proposed, existing)
        if kind == "resident" and "household" in fields:
            self._check_home(fields["household"])
        changes = {name: dict(elements) for name, elements in (set_changes or {}).items()}
        for name in SET_FIELDS.get(kind, ()):
            if name in fields and isinstance(fields[name], list | tuple | set):
                wanted = {str(element) for element in fields.pop(name)}
                current = set(set_members(existing, name)) if existing is not None else set()
                elements = changes.setdefault(name, {})
                elements.update({element: True for element in wanted})
                elements.update({element: False for element in current - wanted})
        return fields, changes

    def _check_home(self, household: object) -> None:
        """A resident is put only in a household the tablet holds and has not deleted (docs/DOMAIN.md, "Deleting a
        household"): a resident pointing at a deleted household would vanish from every roster and ledger."""
        errors = check_home(self.core.records.raw(str(household)))
        if errors:
            raise ValidationError(errors, kind="resident")

    def _check_result(self, proposed: Mapping[str, Any], existing: Mapping[str, Any] | None) -> None:
        """A campaign result against its campaign's form and target (the same check the server makes)."""
        merged = merged_view("campaign_result", proposed, view(existing) if existing is not None else None)
        records = self.core.records
        campaign = records.raw(str(merged.get("campaign")))
        target = records.raw(str(merged.get("target")))
        errors = check_result_record(
            view(campaign) if campaign is not None else None, merged, target["kind"] if target is not None else None
        )
        if errors:
            raise ValidationError(errors, kind="campaign_result")

    def edit(
        self,
        existing: Mapping[str, Any] | None,
        record_id: str,
        kind: str,
        grid: str,
        values: Mapping[str, Any] | None = None,
        set_changes: SetChanges | None = None,
        resolve: tuple[str, ...] = (),
    ) -> Envelope:
        """One local edit of a record: stamped, saved with its outbox entry and the clock in one frame."""
        core = self.core
        envelope, change = local_edit(
            existing, core.clock, record_id=record_id, kind=kind, grid=grid,
            values=values, set_changes=set_changes, resolve=resolve,
        )  # fmt: skip
        if change is None:
            return envelope
        with core.storage.batch():
            core.records.put(record_id, envelope)
            core.outbox.add(change, prior_of(existing, change))
            core.save_clock()
            core.touched.add(record_id)
        result: Envelope = copy_value(envelope)
        return result

    @locked
    def delete(self, record_id: str) -> Envelope:
        """Mark a record deleted (a tombstone that syncs); the record stays for conflict handling.

        A household is not deleted while residents live in it (HouseholdNotEmpty): move or delete them first."""
        core = self.core
        core.check_open()
        existing = core.records.raw(record_id)
        if existing is None:
            raise RecordNotFound(record_id)
        if existing["kind"] == "household" and not existing["fields"].get(DELETED):
            residents = [
                rid
                for rid in core.index.referencing("resident", "household", record_id)
                if (resident := core.records.raw(rid)) is not None
                and not resident["fields"].get(DELETED)
                and resident["fields"].get("household") == record_id
            ]
            if residents:
                raise HouseholdNotEmpty(record_id, len(residents))
        return self.edit(existing, record_id, existing["kind"], existing["grid"], {DELETED: True})
