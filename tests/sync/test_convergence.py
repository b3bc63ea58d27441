"""Property test of the merge: random offline edits on N replicas with random sync schedules always converge.

Devices are in-memory stores; the server is the model in fakeserver.py, both using the shared merge code. Pushes
are duplicated or lose their answer (and are resent later with the same batch id); pulls use random page sizes;
device clocks are off by up to three days. After a final full sync every replica equals the server, every conflict
the server opened is between edits that had not seen each other, and no overwritten value vanished unflagged.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from field_agent.domain.envelope import DELETED, is_deleted, open_conflicts

from .fakeserver import FakeServer
from .memstore import MemStore

DAY_MS = 86_400_000
START_MS = 1_780_000_000_000
DEVICES = 3
MAX_RECORDS = 4
FIELDS = ("phone", "notes", "head")
VALUES = ("a", "b", "c")
TAGS = ("elderly", "infant", "vacant")
SKEWS = (-3 * DAY_MS, 0, 3 * DAY_MS)


def _normal(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope without empty set fields (local_edit leaves one when a set edit changes nothing)."""
    return {**envelope, "sets": {name: elements for name, elements in envelope["sets"].items() if elements}}


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = [START_MS]
        self.server = FakeServer(now_ms=lambda: self.now[0])
        self.devices = [MemStore(grid="g1", now_ms=lambda skew=SKEWS[n]: self.now[0] + skew) for n in range(DEVICES)]
        self.identity = [{"device_id": f"d{n}", "grid": "g1"} for n in range(DEVICES)]
        self.record_ids: list[str] = []
        self.writes: dict[str, dict[str, Any]] = {}
        self.counter = 0

    def _tick(self, ms: int) -> None:
        self.now[0] += ms

    def _local(self, device: int, index: int) -> str | None:
        if not self.record_ids:
            return None
        record = self.record_ids[index % len(self.record_ids)]
        return record if record in self.devices[device].envelopes else None

    @initialize()
    def shared_records(self) -> None:
        """Every device starts with the same two records, as after an evening's sync."""
        for _ in range(2):
            self.record_ids.append(self.devices[0].edit(values={"phone": "0", "notes": "0"}))
        while self._push_once(0):
            pass
        for device in range(DEVICES):
            while self._pull_page(device, 5):
                pass

    @precondition(lambda self: len(self.record_ids) < MAX_RECORDS)
    @rule(device=st.integers(0, DEVICES - 1), field=st.sampled_from(FIELDS), value=st.sampled_from(VALUES))
    def create(self, device: int, field: str, value: str) -> None:
        self._tick(1)
        self.record_ids.append(self.devices[device].edit(values={field: value}))

    @rule(
        device=st.integers(0, DEVICES - 1),
        index=st.integers(0, 50),
        field=st.sampled_from(FIELDS),
        value=st.sampled_from(VALUES),
        ms=st.integers(0, 5),
        unique=st.booleans(),
    )
    def edit(self, device: int, index: int, field: str, value: str, ms: int, unique: bool) -> None:
        record = self._local(device, index)
        if record is not None and not is_deleted(self.devices[device].envelopes[record]):
            self._tick(ms)
            self.counter += 1
            self.devices[device].edit(record, values={field: f"{value}{self.counter}" if unique else value})

    @rule(
        device=st.integers(0, DEVICES - 1),
        index=st.integers(0, 50),
        tag=st.sampled_from(TAGS),
        present=st.booleans(),
    )
    def tag(self, device: int, index: int, tag: str, present: bool) -> None:
        record = self._local(device, index)
        if record is not None:
            self._tick(1)
            self.devices[device].edit(record, set_changes={"tags": {tag: present}})

    @rule(device=st.integers(0, DEVICES - 1), index=st.integers(0, 50))
    def delete(self, device: int, index: int) -> None:
        record = self._local(device, index)
        if record is not None:
            self._tick(1)
            self.devices[device].edit(record, values={DELETED: True})

    @rule(device=st.integers(0, DEVICES - 1), pick=st.integers(0, 50), choice=st.sampled_from(["mine", "theirs", "v"]))
    def resolve(self, device: int, pick: int, choice: str) -> None:
        open_ = self.devices[device].open_conflicts()
        if open_:
            envelope, cid, _ = open_[pick % len(open_)]
            self._tick(1)
            if choice == "v":
                self.devices[device].resolve_conflict(envelope["id"], cid, choice="value", value="typed")
            else:
                self.devices[device].resolve_conflict(envelope["id"], cid, choice=choice)

    def _push_once(self, device: int, duplicate: bool = False, lose_answer: bool = False) -> bool:
        store = self.devices[device]
        batch = store.next_batch(4)
        if batch is None:
            return False
        batch_id, changes = batch
        for change in changes:
            for name, entry in change["fields"].items():
                self.writes.setdefault(
                    entry["stamp"],
                    {
                        "record": change["record"],
                        "field": name,
                        "value": entry["value"],
                        "base": change["base"].get(name),
                    },
                )
        answer = self.server.push(self.identity[device], batch_id, changes)
        if duplicate:
            again = self.server.push(self.identity[device], batch_id, changes)
            assert again["replayed"] and again["results"] == answer["results"]
        if not lose_answer:
            store.ack_batch(batch_id, answer["results"])
        return True

    @rule(device=st.integers(0, DEVICES - 1), duplicate=st.booleans(), lose_answer=st.booleans())
    def push(self, device: int, duplicate: bool, lose_answer: bool) -> None:
        self._push_once(device, duplicate, lose_answer)

    def _pull_page(self, device: int, limit: int) -> bool:
        store = self.devices[device]
        page = self.server.pull(self.identity[device], store.meta_get("cursor", 0), limit)
        store.apply_pulled(page["records"], page["next_cursor"])
        return page["more"]

    @rule(device=st.integers(0, DEVICES - 1), limit=st.integers(1, 4))
    def pull(self, device: int, limit: int) -> None:
        # As the agent does: a pull only follows a push whose answer was recorded (no batch in flight). A pull
        # that kept a value for an in-flight write the server had already applied, and overwritten since, would
        # keep a stale stamp, since a replayed batch re-publishes nothing.
        if self.devices[device].inflight is None:
            self._pull_page(device, limit)

    @precondition(lambda self: self.record_ids)
    @invariant()
    def pending_local_edits_stay_visible(self) -> None:
        for store in self.devices:
            assert not store.refused_changes()
            pending: dict[tuple[str, str], Any] = {}
            for change in [*(store.inflight[1] if store.inflight else ()), *store.outbox.values()]:
                for name, entry in change["fields"].items():
                    pending[change["record"], name] = entry["value"]
            for (record, name), value in pending.items():
                assert store.envelopes[record]["fields"][name] == value, "a pull overwrote an unsent local edit"

    def teardown(self) -> None:
        for device in range(DEVICES):
            while self._push_once(device):
                pass
        for device in range(DEVICES):
            while self._pull_page(device, 3):
                pass
        server = self.server.records
        for store in self.devices:
            assert store.pending_count() == 0
            assert {rid: _normal(e) for rid, e in store.envelopes.items()} == {
                rid: _normal(e) for rid, e in server.items()
            }
        self._check_conflicts_are_true_ones()
        self._check_nothing_lost_silently()

    def _ancestors(self, stamp: str | None) -> set[str]:
        seen: set[str] = set()
        while stamp is not None and stamp not in seen:
            seen.add(stamp)
            stamp = self.writes.get(stamp, {}).get("base")
        return seen

    def _check_conflicts_are_true_ones(self) -> None:
        for envelope in self.server.records.values():
            for cid, conflict in envelope["conflicts"].items():
                if conflict["type"] != "value":
                    continue
                winner, loser = conflict["winner"], conflict["loser"]
                assert winner["value"] != loser["value"] or cid not in open_conflicts(envelope)
                assert loser["stamp"] not in self._ancestors(winner["stamp"])
                assert winner["stamp"] not in self._ancestors(loser["stamp"])

    def _check_nothing_lost_silently(self) -> None:
        accounted: set[str] = set()
        for stamp, write in self.writes.items():
            envelope = self.server.records[write["record"]]
            field = write["field"]
            same_field = [s for s, w in self.writes.items() if w["record"] == write["record"] and w["field"] == field]
            if (
                field == DELETED
                or envelope["stamps"].get(field) == stamp
                or any(stamp in self._ancestors(other) for other in same_field if other != stamp)
                or any(
                    (c["type"] == "value" and stamp in (c["winner"]["stamp"], c["loser"]["stamp"]))
                    or (c["type"] == "delete" and c["edited"].get(field, {}).get("stamp") == stamp)
                    for c in envelope["conflicts"].values()
                )
            ):
                accounted.add(stamp)
        for stamp, write in self.writes.items():
            twins = [
                other
                for other in accounted
                if other != stamp
                and self.writes[other]["record"] == write["record"]
                and self.writes[other]["field"] == write["field"]
                and self.writes[other]["value"] == write["value"]
            ]
            assert stamp in accounted or twins, f"write {stamp} to {write['field']} vanished unflagged"


TestSyncConvergence = SyncMachine.TestCase
TestSyncConvergence.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
