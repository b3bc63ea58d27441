"""Retirement: the tablet keeps what its grid's current work needs, not its whole history (issue 17, goal 1).

The town sets a retention window for tablets (``field-server town retention --days N``, one setting of the town
configuration delivered with the last pull page; ``field_agent/store/town.py`` says which is in force). After a
successful pull the sync agent calls ``Store.retire``: records the server has acknowledged and that no open work
needs leave the tablet once they are older than the window. They stay on the server, and the worker can look one up
when online (``field-agent records get ID``). This is local removal, not deletion: no tombstone is written, nothing
enters the outbox, nothing is pushed. A retired record that the server changes later comes back with the pull, as
any record; a salvaged store that pulls everything again gets them all back and retires them again.

Retired (every condition):

- acknowledged: no pending change, none in the batch in flight, no refused change; no open conflict;
- older than the window: its newest stamp and its own date (visit time, sampling time, follow-up day, task due)
  fall before the window, which is the last ``days`` town days, today included (``3``: today and the two days
  before; ``0``: none, finished work goes at once), in the town's time zone (the town configuration in force,
  ``field_agent/store/town.py``: Beijing time by default, as the terminal app reads it);
- and of a kind whose work is over: a sampling of a round (a campaign result of a campaign) closed (its ``status`` set
  to ``closed``) before the window; a follow-up of a resident no longer in home isolation whose isolation ended before
  the window (or who is no longer on the tablet); a visit of a household with nobody in home isolation; a done or
  cancelled task; a tombstone (a deleted record of any kind).

Never retired: grids, households, residents, rounds and campaigns (live ones), samplings of open rounds, anything of a
resident in home isolation, anything dated or changed within the window, anything not yet acknowledged or
unresolved. The removal is one frame; then the log is compacted (the erasure's flag, ``erasure.COMPACT_KEY``), so
no frame on disk still holds a retired value. ``meta[RETIRED_KEY]`` keeps counts and times only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from field_agent.domain.envelope import DELETED, is_deleted, open_conflicts
from field_agent.domain.hlc import stamp_ms
from field_agent.store.core import StoreCore
from field_agent.store.erasure import COMPACT_KEY
from field_agent.store.town import RETENTION_KEY, ZONE_SETTING, town_config

__all__ = ["RETENTION_KEY", "ZONE_SETTING"]  # where they were before town configuration (field_agent/store/town.py)

RETIRED_KEY = "retired"
"""meta: ``{"total": n, "last_ms": ms, "last": {kind: n}, "parents": {round or resident id: {kind: ms}}}``: counts,
and which rounds' samplings and residents' follow-ups left (so the ledgers do not call them left out); never a
value, never the id of a retired record."""
DEFAULT_ZONE = "Asia/Shanghai"
DONE_TASKS = ("done", "cancelled")
KEPT_KINDS = frozenset({"grid", "household", "resident", "sampling_round", "campaign"})

# the record's own date, by kind (its newest stamp counts too)
_DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "visit": ("visited_at",),
    "sampling": ("sampled_at", "scheduled_at"),
    "followup": ("date",),
    "task": ("due",),
    "campaign_result": ("at",),
}


@dataclass
class RetireCounts:
    """What one ``retire`` removed, per kind (``retired``), and what it kept because it is not acknowledged yet or
    has an open conflict (``kept_unsettled``)."""

    retired: dict[str, int] = field(default_factory=dict)
    kept_unsettled: int = 0

    @property
    def total(self) -> int:
        return sum(self.retired.values())


def town_zone(name: object) -> tzinfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_ZONE)


def cutoff_ms(now_ms: int, days: int, zone: tzinfo) -> int:
    """The start of the window: the window is the last ``days`` town days, today included (3: today and the two
    days before; 0: nothing, finished work goes at once). What is older than this is out of the window."""
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    return int(datetime(first.year, first.month, first.day, tzinfo=zone).timestamp() * 1000)


def _date_ms(value: object, zone: tzinfo) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp() * 1000)


def _newest_ms(envelope: Mapping[str, Any]) -> int:
    stamps = list(envelope["stamps"].values())
    stamps += [entry[0] for elements in envelope["sets"].values() for entry in elements.values()]
    stamps += [c["resolved"] for c in envelope.get("conflicts", {}).values() if c.get("resolved")]
    return max((stamp_ms(stamp) for stamp in stamps), default=0)


def _old(envelope: Mapping[str, Any], cutoff: int, zone: tzinfo) -> bool:
    """Whether the record was last changed, and is dated, before ``cutoff``."""
    if _newest_ms(envelope) >= cutoff:
        return False
    fields = envelope["fields"]
    for name in _DATE_FIELDS.get(envelope["kind"], ()):
        when = _date_ms(fields.get(name), zone)
        if when is not None and when >= cutoff:
            return False
    return True


def unsettled_ids(core: StoreCore) -> set[str]:
    """Records with a change the server has not acknowledged: pending, in the batch in flight, or refused."""
    outbox = core.outbox
    ids = {entry["change"]["record"] for entry in outbox.pending.documents().values()}
    ids |= {entry["change"]["record"] for entry in outbox.refused.documents().values()}
    current = outbox.current_batch()  # a batch frozen by an older version holds its changes inline
    if current is not None:
        ids |= {change["record"] for change in current[1]}
    return ids


def plan(core: StoreCore, now_ms: int, days: int) -> tuple[dict[str, list[str]], int]:
    """The ids to retire, by kind, and how many otherwise due records were kept as unsettled.

    Records are kept packed in memory (``packed.py``): what the index already knows decides first, so only the
    records that could go are unpacked, and each round or resident they point to once."""
    zone = town_zone(town_config(core).time_zone)
    cutoff = cutoff_ms(now_ms, days, zone)
    table, index = core.records.documents(), core.index
    unsettled = unsettled_ids(core)
    isolated: set[str] = set()  # residents in home isolation
    isolated_households: set[str] = set()
    for resident_id, fields in index.projection("resident", index.by_kind.get("resident", set())):
        if fields["isolation_status"] == "home":
            isolated.add(resident_id)
            household = (table.get(resident_id) or {}).get("fields", {}).get("household")
            if isinstance(household, str):
                isolated_households.add(household)
    kept_live = set().union(*(index.by_kind.get(kind, set()) for kind in KEPT_KINDS)) - index.deleted
    parents: dict[str, Any] = {}

    def parent(record_id: object) -> Mapping[str, Any] | None:
        """A round or resident a record points to, unpacked once per plan."""
        if not isinstance(record_id, str):
            return None
        if record_id not in parents:
            parents[record_id] = table.get(record_id)
        found: Mapping[str, Any] | None = parents[record_id]
        return found

    due: dict[str, list[str]] = {}
    kept = 0
    for record_id in list(table):
        if record_id in kept_live:
            continue
        envelope = table.get(record_id)
        if envelope is None:
            continue
        kind = envelope["kind"]
        deleted = bool(envelope["fields"].get(DELETED))
        if not deleted and kind in KEPT_KINDS:
            continue
        if not _old(envelope, cutoff, zone):
            continue
        if not deleted and not _work_over(envelope, parent, cutoff, isolated, isolated_households):
            continue
        if deleted and _of_isolated(envelope, isolated, isolated_households):
            continue
        if record_id in unsettled or (envelope["conflicts"] and open_conflicts(envelope)):
            kept += 1
            continue
        due.setdefault(kind, []).append(record_id)
    return due, kept


def _of_isolated(envelope: Mapping[str, Any], isolated: set[str], households: set[str]) -> bool:
    fields = envelope["fields"]
    if fields.get("resident") in isolated or envelope["id"] in isolated:
        return True
    return envelope["kind"] == "visit" and fields.get("household") in households


def _work_over(
    envelope: Mapping[str, Any],
    parent: Callable[[object], Mapping[str, Any] | None],
    cutoff: int,
    isolated: set[str],
    isolated_households: set[str],
) -> bool:
    """Whether the live record belongs to work that ended before ``cutoff`` (and to no resident in isolation)."""
    kind, fields = envelope["kind"], envelope["fields"]
    if _of_isolated(envelope, isolated, isolated_households):
        return False
    if kind == "visit":
        return True
    if kind == "task":
        return fields.get("status") in DONE_TASKS
    if kind in ("sampling", "campaign_result"):
        round_ = parent(fields.get("round" if kind == "sampling" else "campaign"))
        if round_ is None or is_deleted(round_):
            return False  # a round or campaign the tablet does not know: keep (it may be open)
        closed = round_["stamps"].get("status")
        return round_["fields"].get("status") == "closed" and closed is not None and stamp_ms(closed) < cutoff
    if kind == "followup":
        resident = parent(fields.get("resident"))
        if resident is None or is_deleted(resident):
            return True  # not on the tablet (any more): not in isolation here
        if resident["fields"].get("isolation_status") == "home":
            return False
        ended = resident["stamps"].get("isolation_status")
        return ended is None or stamp_ms(ended) < cutoff
    return False


def retire(core: StoreCore, now_ms: int, days: int | None) -> RetireCounts:
    """Remove what the window lets go, in one commit, and flag the log for compaction (the caller compacts)."""
    counts = RetireCounts()
    if days is None or days < 0:
        return counts
    due, counts.kept_unsettled = plan(core, now_ms, days)
    if not due:
        return counts
    ids = [record_id for group in due.values() for record_id in group]
    counts.retired = {kind: len(group) for kind, group in sorted(due.items())}
    noted = core.meta_get(RETIRED_KEY) or {}
    parents: dict[str, dict[str, int]] = noted.get("parents") or {}
    table = core.records.documents()
    for kind, field_name in (("sampling", "round"), ("followup", "resident"), ("campaign_result", "campaign")):
        for record_id in due.get(kind, ()):
            parent = table[record_id]["fields"].get(field_name)
            if isinstance(parent, str):
                parents.setdefault(parent, {})[kind] = int(now_ms)
    note = {
        "total": int(noted.get("total", 0)) + len(ids),
        "last_ms": int(now_ms),
        "last": counts.retired,
        "parents": parents,  # round / resident -> kind -> when its records left: the ledgers say so, not "left out"
    }
    with core.storage.batch():
        core.records.delete_many(ids)
        core.touched.update(ids)
        core.meta_put(RETIRED_KEY, note)
        core.meta_put(COMPACT_KEY, True)
    return counts
