"""An unlocked store and its read model: the one object the screens' workers call (every call blocks)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from field_agent.domain.envelope import is_deleted, view
from field_agent.domain.groups import EligibilityRule
from field_agent.domain.isolation import DEFAULT_ISOLATION_DAYS
from field_agent.domain.printable import inert_values
from field_agent.domain.roles import RoleConfig
from field_agent.domain.town import TownConfig
from field_agent.ledgers.audit import append_store_audit, reveal_entry
from field_agent.store import Store
from field_agent.store.log import gc_paused
from field_agent.store.reader import StoreReader
from field_agent.sync.conflicts import list_conflicts, resolve
from field_agent.tui.model import KINDS, GridModel
from field_agent.tui.queries.campaigns import CampaignLine, campaign_lines
from field_agent.tui.queries.today import TodaySummary, today_summary

MAX_SEARCH = 60
CHINA = timezone(timedelta(hours=8))

DEFAULT_SETTINGS: dict[str, Any] = {
    "language": None,
    "auto_lock_minutes": 5,
    "sync_window": "22:00-06:00",
    "server_url": "",
    "worker": "",
    "role": "worker",
    "isolation_days": DEFAULT_ISOLATION_DAYS,
    "reveal_seconds": 30,
}


def wall_now() -> datetime:
    return datetime.now(CHINA).replace(microsecond=0)


class Session:
    """A store held open after unlock, with the grid's read model; ``close`` drops the store and its key."""

    def __init__(self, store: Store, now: Callable[[], datetime] = wall_now) -> None:
        self.store: Store | None = store
        self.reader: StoreReader = store.reader
        self.now = now
        self.lock = threading.RLock()
        self._model: GridModel | None = None
        self._prefetched_today: TodaySummary | None = None

    @classmethod
    def unlock(cls, path: Path, passphrase: str, now: Callable[[], datetime] = wall_now) -> Session:
        """Open an existing store (derives the key: slow on purpose)."""
        return cls(Store.open(path, passphrase), now)

    @classmethod
    def create(
        cls, path: Path, passphrase: str, grid: str, worker: str, now: Callable[[], datetime] = wall_now
    ) -> Session:
        """Create a new store for one grid and remember who works it."""
        store = Store.create(path, passphrase, grid=grid)
        store.meta_set("worker", worker)
        return cls(store, now)

    @property
    def model(self) -> GridModel:
        """The grid's read model, built on first use (blocks: call it from a worker)."""
        model = self._model
        if model is None:
            with self.lock:
                if self._model is None:
                    self._model = self._build_model()
                model = self._model
        return model

    @property
    def model_ready(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Rebuild the read model from the store if it was built (after a sync); otherwise it is built on first use."""
        with self.lock:
            if self._model is not None:
                self._model = self._build_model()

    def _build_model(self) -> GridModel:
        # Runs under self.lock, so a save that lands meanwhile is applied to this model once it is in place.
        # Built with the GC paused; the app then freezes it with the store's tables (FieldAgentApp.prepare_session):
        # later full collections would otherwise rescan every view (measured: 170 ms pauses in search).
        store = self._open_store()
        with gc_paused(freeze=True):
            records = store.views(store.index.ids(None))
            return GridModel.from_views((record for record in records if record["kind"] in KINDS), store.index)

    def today_numbers(self) -> TodaySummary:
        """Today's numbers, from the store's indexes (no read model needed); the ones made while unlocking, once."""
        prefetched, self._prefetched_today = self._prefetched_today, None
        if prefetched is not None:
            return prefetched
        summary = today_summary(
            self.reader,
            self.today,
            self.now(),
            self.worker,
            self.sync_state(),
            isolation_days=int(self.setting("isolation_days") or DEFAULT_ISOLATION_DAYS),
            rule=self.eligibility,
        )
        until = self.setting("until")
        summary = replace(summary, role=str(self.setting("role") or ""), until=str(until) if until else None)
        return inert_values(summary)

    def campaign_lines(self) -> list[CampaignLine]:
        """The active campaigns' progress, from the store's indexes (Today shows it once its numbers are drawn)."""
        return list(inert_values(campaign_lines(self.reader, self.today)))

    def prefetch_today(self) -> None:
        """Work out Today's numbers now, in the unlock worker, while the UI thread has nothing else to do."""
        self._prefetched_today = self.today_numbers()

    def prepare(self) -> None:
        """Build the search index and the read model now, e.g. in a worker once Today is on screen."""
        with gc_paused(freeze=True):
            self.warm_search()
        _ = self.model

    def _open_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is locked")
        return self.store

    @contextmanager
    def reading(self) -> Iterator[GridModel]:
        """The read model, held still while a query walks it."""
        model = self.model
        with self.lock:
            yield self._model or model

    @property
    def today(self) -> date:
        return self.now().date()

    @property
    def town(self) -> TownConfig:
        """The town configuration in force today (synced from the town server; ``field_agent/store/town.py``)."""
        return self._open_store().town_config(self.today)

    @property
    def eligibility(self) -> EligibilityRule:
        """Who gets home sampling: the town configuration's rule in force today."""
        return self.town.eligibility

    @property
    def roles(self) -> RoleConfig:
        """The town's roles and groups in force today."""
        return self.town.roles

    @property
    def grid_id(self) -> str:
        return str(self.setting("grid") or "")

    @property
    def worker(self) -> str:
        return str(self.setting("worker") or "")

    @property
    def is_leader(self) -> bool:
        grid = self.reader.grid()
        return self.setting("role") == "leader" or bool(grid and self.worker and grid.get("leader") == self.worker)

    def setting(self, key: str) -> Any:
        value = self._open_store().meta_get(key)
        return DEFAULT_SETTINGS.get(key) if value is None else value

    def set_setting(self, key: str, value: Any) -> None:
        self._open_store().meta_set(key, value)

    def save(
        self,
        kind: str,
        values: Mapping[str, Any],
        record_id: str | None = None,
        set_changes: Mapping[str, Mapping[str, bool]] | None = None,
    ) -> dict[str, Any]:
        """Validate and durably save one record; return its view (raises ValidationError with field errors)."""
        envelope = self._open_store().put(kind, dict(values), record_id=record_id, set_changes=set_changes)
        return self._applied(envelope)

    def save_many(self, writes: list[tuple[str, Mapping[str, Any], str | None]]) -> list[dict[str, Any]]:
        """Several records saved together (one batch)."""
        store = self._open_store()
        envelopes = []
        with store.batch():
            for kind, values, record_id in writes:
                envelopes.append(store.put(kind, dict(values), record_id=record_id))
        return [self._applied(envelope) for envelope in envelopes]

    def delete(self, record_id: str) -> None:
        """Delete a record (a tombstone that syncs), e.g. one just created, when its save is undone."""
        self._applied(self._open_store().delete(record_id))

    def _applied(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """A saved record's view, taken into the read model when there is one (else it is built with it later)."""
        if not envelope:
            return {}
        with self.lock:
            if self._model is not None:
                return self._model.apply(envelope) or {}
        return {} if is_deleted(envelope) else inert_values(view(envelope))

    def search_household_ids(self, query: str) -> list[str] | None:
        """Household ids matching address, name, pinyin initials or phone tail (None for an empty query)."""
        if not query.strip():
            return None
        return self._open_store().search_household_ids(query.strip(), limit=MAX_SEARCH)

    def warm_search(self) -> None:
        """Build the store's search index now, so the first keystroke on the Households screen is fast."""
        self._open_store().warm_search()

    def sync_state(self) -> dict[str, Any]:
        store = self._open_store()
        last = store.meta_get("last_sync")
        return inert_values(
            {
                "pending": store.pending_count(),
                "conflicts": len(store.open_conflicts()),
                "last_sync": last.get("at") if isinstance(last, dict) else last,
                "last_result": last if isinstance(last, dict) else None,
            }
        )

    def conflicts(self) -> list[dict[str, Any]]:
        """Open conflicts described from this device's side (oldest first)."""
        return inert_values(list_conflicts(self._open_store()))

    def resolve_conflict(self, record_id: str, cid: str, choice: str, value: Any = None) -> dict[str, Any]:
        """Close a conflict with mine, theirs or a typed value; return the record's new view."""
        store = self._open_store()
        resolve(store, record_id, cid, choice, value)
        return self._applied(store.get(record_id) or {})

    def audit_reveal(self, resident_id: str, household_id: str | None, fields: list[str], reason: str) -> float:
        """Record in the device's audit list that this worker is shown a resident's full ID number (who, when,
        which record, why; never the number); return how many seconds it stays shown. Raises when it could not
        be recorded: then nothing is shown."""
        seconds = float(self.setting("reveal_seconds") or DEFAULT_SETTINGS["reveal_seconds"])
        entry = reveal_entry(
            record=resident_id,
            household=household_id,
            fields=fields,
            reason=reason,
            seconds=seconds,
            actor=self.worker,
            role=str(self.setting("role") or ""),
            at=self.now(),
        )
        append_store_audit(self._open_store(), entry)
        return seconds

    def change_passphrase(self, old: str, new: str) -> None:
        self._open_store().passwd(old, new)

    def close(self) -> None:
        """Close the store; its key and the decrypted records are dropped with it."""
        store, self.store = self.store, None
        with self.lock:
            self._model = None
        if store is not None:
            store.close()
