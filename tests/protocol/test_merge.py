"""Merge rules: convergence in any order, idempotence, and true conflicts flagged exactly once."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from field_agent.domain.envelope import DELETED, coalesce, local_edit, new_envelope, open_conflicts, view
from field_agent.domain.hlc import HybridClock
from field_agent.protocol.merge import MergeRefused, apply_change, merge_envelopes

NODES = ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"]


class Device:
    """A replica with an outbox, syncing with a server dict through the shared merge code."""

    def __init__(self, node: str, start_ms: int) -> None:
        self.ms = start_ms
        self.clock = HybridClock(node, now_ms=self._wall)
        self.records: dict[str, dict] = {}
        self.outbox: dict[str, dict] = {}

    def _wall(self) -> int:
        self.ms += 1
        return self.ms

    def edit(self, record_id: str, **kwargs) -> None:
        env, change = local_edit(
            self.records.get(record_id),
            self.clock,
            record_id=record_id,
            kind="household",
            grid="g1",
            **kwargs,
        )
        if change is None:
            return
        self.records[record_id] = env
        previous = self.outbox.get(record_id)
        self.outbox[record_id] = change if previous is None else coalesce(previous, change)

    def push(self, server: dict[str, dict], results: list) -> None:
        for record_id, change in sorted(self.outbox.items()):
            server[record_id], outcome = apply_change(server.get(record_id), change)
            results.append(outcome)
        self.outbox.clear()

    def pull(self, server: dict[str, dict]) -> None:
        for record_id, remote in server.items():
            for stamp in remote["stamps"].values():
                self.clock.observe(stamp)
            keep = set(self.outbox.get(record_id, {}).get("fields", {}))
            local = self.records.get(record_id)
            self.records[record_id] = remote if local is None else merge_envelopes(local, remote, keep_ours=keep)


def three_devices() -> tuple[list[Device], dict[str, dict]]:
    return [Device(node, 1_700_000_000_000 + i * 7) for i, node in enumerate(NODES)], {}


def seed(devices: list[Device], server: dict) -> None:
    devices[0].edit("r1", values={"head": "张三", "phone": "13800000000", "room": "301"})
    devices[0].push(server, [])
    for device in devices:
        device.pull(server)


def test_same_field_edited_by_two_devices_is_one_conflict_in_any_order() -> None:
    for order in itertools.permutations(range(3)):
        devices, server = three_devices()
        seed(devices, server)
        devices[0].edit("r1", values={"head": "李四"})
        devices[1].edit("r1", values={"head": "王五"})
        devices[2].edit("r1", values={"room": "302"}, set_changes={"tags": {"elderly": True}})
        outcomes: list = []
        for i in order:
            devices[i].push(server, outcomes)
        for device in devices:
            device.pull(server)
        assert all(d.records == server for d in devices), order
        conflicts = open_conflicts(server["r1"])
        assert len(conflicts) == 1, order
        (conflict,) = conflicts.values()
        assert conflict["field"] == "head"
        assert {conflict["winner"]["value"], conflict["loser"]["value"]} == {"李四", "王五"}
        assert view(server["r1"])["room"] == "302"
        assert view(server["r1"])["tags"] == ["elderly"]


def test_edit_against_delete_is_a_conflict_in_either_order() -> None:
    for deleter_first in (True, False):
        devices, server = three_devices()
        seed(devices, server)
        devices[0].edit("r1", values={DELETED: True})
        devices[1].edit("r1", values={"phone": "13900000000"})
        order = [0, 1] if deleter_first else [1, 0]
        outcomes: list = []
        for i in order:
            devices[i].push(server, outcomes)
        assert [o.status for o in outcomes] == ["applied", "conflict"]
        (conflict,) = open_conflicts(server["r1"]).values()
        assert conflict["type"] == "delete"
        for device in devices:
            device.pull(server)
        assert all(d.records == server for d in devices)


def test_deleting_after_seeing_every_edit_is_no_conflict() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[1].edit("r1", values={"phone": "13900000000"})
    devices[1].push(server, [])
    devices[0].pull(server)
    devices[0].edit("r1", values={DELETED: True})
    outcomes: list = []
    devices[0].push(server, outcomes)
    assert outcomes[0].status == "applied"
    assert not open_conflicts(server["r1"])


def test_resolution_closes_the_conflict_everywhere() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[0].edit("r1", values={"head": "李四"})
    devices[1].edit("r1", values={"head": "王五"})
    for device in devices:
        device.push(server, [])
    for device in devices:
        device.pull(server)
    (cid,) = open_conflicts(server["r1"])
    devices[2].edit("r1", values={"head": "王五"}, resolve=[cid])
    devices[2].push(server, [])
    for device in devices:
        device.pull(server)
    assert not open_conflicts(server["r1"])
    assert all(d.records == server for d in devices)
    assert view(server["r1"])["head"] == "王五"


def test_applying_a_change_twice_changes_nothing() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[1].edit("r1", values={"head": "赵六"}, set_changes={"tags": {"x": True}})
    change = devices[1].outbox["r1"]
    once, first = apply_change(server["r1"], change)
    twice, second = apply_change(once, change)
    assert once == twice
    assert first.changed and not second.changed


def test_a_change_for_another_grid_is_refused() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[1].edit("r1", values={"head": "赵六"})
    change = dict(devices[1].outbox["r1"], grid="g2")
    with pytest.raises(MergeRefused, match="grid g1"):
        apply_change(server["r1"], change)


def test_pending_local_edit_survives_a_pull() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[1].edit("r1", values={"head": "远方"})
    devices[1].push(server, [])
    devices[0].edit("r1", values={"head": "本地"})
    devices[0].pull(server)
    assert view(devices[0].records["r1"])["head"] == "本地"
    devices[0].push(server, [])
    devices[0].pull(server)
    assert devices[0].records["r1"] == server["r1"]
    assert len(open_conflicts(server["r1"])) == 1


FIELDS = ["head", "phone", "room"]
VALUES = ["a", "b", "c"]


class ReplicasConverge(RuleBasedStateMachine):
    """Random edits on three replicas, random sync schedules: after a full sync, everyone equals the server."""

    def __init__(self) -> None:
        super().__init__()
        self.devices, self.server = three_devices()

    @rule(
        device=st.integers(0, 2),
        record=st.sampled_from(["r1", "r2"]),
        name=st.sampled_from(FIELDS),
        value=st.sampled_from(VALUES),
    )
    def edit_field(self, device: int, record: str, name: str, value: str) -> None:
        self.devices[device].edit(record, values={name: value})

    @rule(
        device=st.integers(0, 2),
        record=st.sampled_from(["r1", "r2"]),
        element=st.sampled_from(["x", "y"]),
        present=st.booleans(),
    )
    def edit_set(self, device: int, record: str, element: str, present: bool) -> None:
        self.devices[device].edit(record, set_changes={"tags": {element: present}})

    @precondition(lambda self: any(d.records for d in self.devices))
    @rule(device=st.integers(0, 2), record=st.sampled_from(["r1", "r2"]), deleted=st.booleans())
    def delete_or_restore(self, device: int, record: str, deleted: bool) -> None:
        if record in self.devices[device].records:
            self.devices[device].edit(record, values={DELETED: deleted})

    @rule(device=st.integers(0, 2))
    def resolve_one(self, device: int) -> None:
        replica = self.devices[device]
        for record_id, env in sorted(replica.records.items()):
            for cid in sorted(open_conflicts(env)):
                replica.edit(record_id, resolve=[cid])
                return

    @rule(device=st.integers(0, 2), replay=st.booleans())
    def push(self, device: int, replay: bool) -> None:
        pending = list(self.devices[device].outbox.values())
        self.devices[device].push(self.server, [])
        if replay:
            for change in pending:
                before = self.server[change["record"]]
                after, outcome = apply_change(before, change)
                assert after == before and not outcome.changed

    @rule(device=st.integers(0, 2))
    def pull(self, device: int) -> None:
        self.devices[device].pull(self.server)

    @invariant()
    def each_open_conflict_names_two_distinct_values(self) -> None:
        for env in self.server.values():
            for conflict in env["conflicts"].values():
                if conflict["type"] == "value":
                    assert conflict["winner"]["stamp"] > conflict["loser"]["stamp"]
            for conflict in open_conflicts(env).values():
                if conflict["type"] == "value":
                    assert conflict["winner"]["value"] != conflict["loser"]["value"]

    def teardown(self) -> None:
        for _ in range(2):
            for device in self.devices:
                device.push(self.server, [])
            for device in self.devices:
                device.pull(self.server)
        for device in self.devices:
            assert device.records == self.server


ReplicasConverge.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestReplicasConverge = ReplicasConverge.TestCase


def test_merge_envelopes_is_a_join() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[0].edit("r1", values={"head": "a"}, set_changes={"tags": {"x": True}})
    devices[1].edit("r1", values={"phone": "13911112222"}, set_changes={"tags": {"x": False, "y": True}})
    devices[2].edit("r1", values={"head": "c", DELETED: True})
    a, b, c = (d.records["r1"] for d in devices)
    assert merge_envelopes(a, b) == merge_envelopes(b, a)
    assert merge_envelopes(merge_envelopes(a, b), c) == merge_envelopes(a, merge_envelopes(b, c))
    assert merge_envelopes(a, a) == a


def test_an_owned_envelope_is_updated_in_place_with_the_same_result() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[0].edit("r1", values={"head": "李四"})
    devices[1].edit("r1", values={"head": "王五", DELETED: True}, set_changes={"tags": {"x": True}})
    expected = server["r1"]
    handed_over = copy.deepcopy(server["r1"])
    for change in (devices[0].outbox["r1"], devices[1].outbox["r1"]):
        expected, first = apply_change(expected, change)
        handed_over, second = apply_change(handed_over, change, owned=True)
        assert handed_over == expected and first == second
    kept = copy.deepcopy(server["r1"])
    apply_change(server["r1"], devices[0].outbox["r1"])
    assert server["r1"] == kept  # without owned=True the caller's envelope is never touched


DAY_MS = 86_400_000
EDIT_FIELDS = ("head", "phone", "notes")


def _device_change(base_env: dict, node: str, skew_ms: int, steps: list[dict]) -> dict | None:
    """One device's unsent change after pulling ``base_env``: its edits folded as the outbox folds them."""
    ms = [1_780_000_000_000 + skew_ms]

    def wall() -> int:
        ms[0] += 1
        return ms[0]

    clock = HybridClock(node, now_ms=wall)
    stamps = [*base_env["stamps"].values()] + [e[0] for els in base_env["sets"].values() for e in els.values()]
    stamps += [c["resolved"] for c in base_env["conflicts"].values() if c.get("resolved")]
    clock.observe(max(stamps))  # a pull moves the clock past every stamp seen
    env, change = copy.deepcopy(base_env), None
    for step in steps:
        kwargs = dict(step)
        if kwargs.pop("resolve_first", False) and open_conflicts(env):
            kwargs["resolve"] = [sorted(open_conflicts(env))[0]]
        if DELETED in kwargs.get("values", {}) and kwargs["values"][DELETED] == bool(env["fields"].get(DELETED)):
            kwargs["values"] = {k: v for k, v in kwargs["values"].items() if k != DELETED}
        env, new = local_edit(env, clock, record_id=env["id"], kind="household", grid="g1", **kwargs)
        if new is not None:
            change = new if change is None else coalesce(change, new)
    return change


step_strategy = st.fixed_dictionaries(
    {
        "values": st.dictionaries(
            st.sampled_from([*EDIT_FIELDS, DELETED]),
            st.sampled_from(["a", "b", True, False]),
            max_size=3,
        ).map(lambda d: {k: (bool(v) if k == DELETED else str(v)) for k, v in d.items()}),
        "set_changes": st.dictionaries(
            st.just("tags"), st.dictionaries(st.sampled_from(["x", "y"]), st.booleans(), max_size=2), max_size=1
        ),
        "resolve_first": st.booleans(),
    }
)


def _base_envelope(history: str) -> dict:
    """The server's record before the devices edit: plain, with an open conflict, or deleted."""
    devices, server = three_devices()
    seed(devices, server)
    if history == "conflict":
        devices[0].edit("r1", values={"head": "甲"})
        devices[1].edit("r1", values={"head": "乙"}, set_changes={"tags": {"x": True}})
        devices[0].push(server, [])
        devices[1].push(server, [])
    elif history == "deleted":
        devices[0].edit("r1", values={DELETED: True})
        devices[0].push(server, [])
    return server["r1"]


@settings(max_examples=250, deadline=None)
@given(
    history=st.sampled_from(["plain", "conflict", "deleted"]),
    devices=st.lists(
        st.tuples(st.integers(-3, 3), st.lists(step_strategy, min_size=1, max_size=2)), min_size=2, max_size=4
    ),
)
def test_concurrent_changes_give_the_same_record_in_every_order(history: str, devices: list) -> None:
    """Changes of up to 4 devices made against one server record: every arrival order stores the same record,
    values, stamps and conflicts (ids and contents)."""
    base_env = _base_envelope(history)
    changes = [
        change
        for n, (skew, steps) in enumerate(devices)
        if (change := _device_change(base_env, f"{n + 1:012x}", skew * DAY_MS, steps)) is not None
    ]
    results = []
    for order in itertools.permutations(changes):
        envelope = base_env
        for change in order:
            envelope, _ = apply_change(envelope, change)
        results.append(envelope)
    for envelope in results[1:]:
        assert envelope == results[0], (history, changes)


def test_delete_against_edits_is_the_same_conflict_in_every_order() -> None:
    """One deletes, two edit other fields: the same single conflict, whoever syncs first."""
    finals = []
    for order in itertools.permutations(range(3)):
        devices, server = three_devices()
        seed(devices, server)
        devices[0].edit("r1", values={DELETED: True})
        devices[1].edit("r1", values={"notes": "门口有狗", "phone": "13911112222"})
        devices[2].edit("r1", values={"room": "302"})
        for i in order:
            devices[i].push(server, [])
        finals.append(server["r1"])
        (conflict,) = open_conflicts(server["r1"]).values()
        assert conflict["type"] == "delete" and set(conflict["edited"]) == {"notes", "phone", "room"}
    assert all(final == finals[0] for final in finals)


def test_a_write_stamped_below_the_value_it_replaced_is_kept_as_a_conflict() -> None:
    """A tablet whose clock went back edits a value it has seen: the server keeps both, never drops it silently."""
    devices, server = three_devices()
    seed(devices, server)
    devices[0].ms += 3 * DAY_MS  # three days ahead
    devices[0].edit("r1", values={"head": "李四"})
    devices[0].push(server, [])
    devices[0].pull(server)
    devices[0].clock = HybridClock(NODES[0], now_ms=devices[0]._wall)  # an old tablet's clock restart
    devices[0].ms -= 3 * DAY_MS
    devices[0].edit("r1", values={"head": "王五"})
    change = devices[0].outbox["r1"]
    assert change["fields"]["head"]["stamp"] < change["base"]["head"] == server["r1"]["stamps"]["head"]
    outcomes: list = []
    devices[0].push(server, outcomes)
    assert outcomes[0].status == "conflict"
    (conflict,) = open_conflicts(server["r1"]).values()
    assert (conflict["winner"]["value"], conflict["loser"]["value"]) == ("李四", "王五")


def test_a_losing_change_sent_again_after_later_edits_changes_nothing() -> None:
    devices, server = three_devices()
    seed(devices, server)
    devices[0].edit("r1", values={"head": "李四"})
    devices[1].edit("r1", values={"head": "王五"})
    late = copy.deepcopy(devices[0].outbox["r1"])
    devices[0].push(server, [])
    devices[1].push(server, [])
    for device in devices:
        device.pull(server)
    devices[2].edit("r1", values={"head": "赵六"})  # seen the clash, did not resolve it
    devices[2].push(server, [])
    before = copy.deepcopy(server["r1"])
    again, outcome = apply_change(server["r1"], late)
    assert again == before and not outcome.changed


NODE = "0123456789ab"
names = st.sampled_from(["address", "notes", "phone", "tags", DELETED, "x" * 64, "名字"])
stamps = st.builds(
    lambda ms, counter, node: f"{ms:015d}-{counter:05d}-{node}",
    st.integers(0, 10**15 - 1),
    st.integers(0, 99_999),
    st.sampled_from([NODE, "fedcba987654"]),
)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)
changes = st.fixed_dictionaries(
    {
        "record": st.sampled_from(["r1", "0190aa-1"]),
        "kind": st.sampled_from(["household", "resident", "visit", "grid"]),
        "grid": st.sampled_from(["g1", "grid-2"]),
        "fields": st.dictionaries(
            names,
            st.fixed_dictionaries({"value": st.one_of(values, st.just(True)), "stamp": stamps}),
            max_size=4,
        ),
        "sets": st.dictionaries(
            names,
            st.dictionaries(names, st.fixed_dictionaries({"present": st.booleans(), "stamp": stamps}), max_size=3),
            max_size=2,
        ),
        "base": st.dictionaries(names, stamps, max_size=2),
        "resolve": st.dictionaries(st.text(max_size=10), stamps, max_size=2),
    }
)
CREATED_DELETED = {
    "record": "r1",
    "kind": "household",
    "grid": "g1",
    "fields": {
        "notes": {"value": "x", "stamp": f"001700000000000-00000-{NODE}"},
        DELETED: {"value": True, "stamp": f"001700000000001-00000-{NODE}"},
    },
    "sets": {},
    "base": {},
    "resolve": {},
}


@example(CREATED_DELETED)  # created and deleted before it was ever sent: the deletion's marker is kept
@given(changes)
def test_a_new_record_is_built_exactly_as_the_general_merge_builds_it(change: dict) -> None:
    """``apply_change(None, …)`` builds most new records directly; the result is the general path's, byte for byte."""
    original = copy.deepcopy(change)
    expected, expected_outcome = apply_change(new_envelope(change["record"], change["kind"], change["grid"]), change)
    envelope, outcome = apply_change(None, change)
    assert envelope == expected
    assert json.dumps(envelope) == json.dumps(expected)  # same key order, so the same stored bytes
    assert (outcome.status, outcome.conflicts, outcome.changed) == (
        expected_outcome.status,
        expected_outcome.conflicts,
        expected_outcome.changed,
    )
    for value in envelope["fields"].values():  # nothing mutable shared with the change
        if isinstance(value, dict | list):
            value.append(1) if isinstance(value, list) else value.update(extra=1)
    assert change == original
