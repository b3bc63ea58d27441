"""Property: whatever the server takes, refuses or leaves unanswered, and whatever others write meanwhile, the tablet
ends up holding exactly the server's record once everything is settled and pulled."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.protocol.merge import apply_change
from field_agent.store import Store

from .conftest import PASSPHRASE

edits = st.tuples(st.just("edit"), st.sampled_from(["head", "notes"]), st.sampled_from(["甲", "乙", "丙"]))
tags = st.tuples(st.just("tag"), st.sampled_from(["独居", "空巢"]), st.booleans())
pushes = st.tuples(st.just("push"), st.sampled_from(["applied", "refused", "unanswered"]), st.just(None))
remote = st.tuples(st.just("remote"), st.sampled_from(["head", "notes"]), st.sampled_from(["丁", "戊"]))


class Server:
    """The server's copy of one record; it takes, refuses or never answers what the tablet pushes."""

    def __init__(self) -> None:
        self.envelope: dict | None = None
        self.cursor = 0
        self.clock = HybridClock("0123456789ab")

    def push(self, store: Store, outcome: str) -> None:
        batch = store.next_batch(10)
        if batch is None:
            return
        results = []
        for change in batch[1]:
            if outcome == "applied":
                self.envelope, _ = apply_change(self.envelope, change)
            if outcome != "unanswered":
                results.append({"record": change["record"], "status": outcome, "code": "x", "reason": "test"})
        store.ack_batch(batch[0], results)

    def remote_edit(self, store: Store, field: str, value: str) -> None:
        envelope = self.envelope
        for stamp in envelope["stamps"].values():  # another tablet that had pulled the record first
            self.clock.observe(stamp)
        self.envelope, _ = local_edit(
            envelope, self.clock, record_id=envelope["id"], kind="household", grid=envelope["grid"],
            values={field: value},
        )  # fmt: skip
        self.pull(store)

    def pull(self, store: Store) -> None:
        self.cursor += 1
        store.apply_pulled([self.envelope], self.cursor)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(edits, tags, pushes, remote), max_size=14))
def test_the_tablet_converges_to_the_server_whatever_is_refused(tmp_path_factory, steps: list) -> None:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("store") / "s"
    server = Server()
    with Store.create(path, PASSPHRASE, grid="g1") as store:
        record_id = store.put("household", {"address": "幸福路 1 号", "head": "甲"})["id"]
        server.push(store, "applied")
        for action, name, value in steps:
            if action == "edit":
                store.put("household", {name: value}, record_id=record_id)
            elif action == "tag":
                store.put("household", {}, record_id=record_id, set_changes={"tags": {name: value}})
            elif action == "push":
                server.push(store, name)
            else:
                server.remote_edit(store, name, value)
        while store.pending_count():
            server.push(store, "applied")
        server.pull(store)
        assert store.get(record_id) == server.envelope
        refused = sum(1 for action, outcome, _ in steps if action == "push" and outcome == "refused")
        assert len(store.refused_changes()) <= refused
