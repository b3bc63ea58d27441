"""Model-based test: random inserts, updates, deletes, batches, reopens and compactions behave like a dict."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from field_agent.domain.envelope import view
from field_agent.store import Store

from .conftest import PASSPHRASE

TEXT = st.text(alphabet="abcxyz019张王李幸福路栋号-", min_size=1, max_size=12)
FIELDS = st.fixed_dictionaries({}, optional={"address": TEXT, "head": TEXT, "notes": TEXT, "building": TEXT})


class StoreBehavesLikeADict(RuleBasedStateMachine):
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp()) / "store"
        self.store = Store.create(self.directory, PASSPHRASE, grid="grid-1")
        self.store.storage.min_compact_bytes = 2048
        self.model: dict[str, dict[str, str]] = {}
        self.deleted: set[str] = set()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory.parent, ignore_errors=True)

    @rule(target=records, address=TEXT, fields=FIELDS)
    def insert(self, address: str, fields: dict[str, str]) -> str:
        values = {**fields, "address": address}
        record_id = self.store.put("household", values)["id"]
        self.model[record_id] = values
        return record_id

    @rule(record_id=records, fields=FIELDS)
    def update(self, record_id: str, fields: dict[str, str]) -> None:
        if record_id in self.deleted:
            return
        self.store.put("household", fields, record_id=record_id)
        self.model[record_id].update(fields)

    @rule(record_id=records)
    def delete(self, record_id: str) -> None:
        self.store.delete(record_id)
        self.deleted.add(record_id)

    @rule(addresses=st.lists(TEXT, min_size=1, max_size=5), fail=st.booleans())
    def batch(self, addresses: list[str], fail: bool) -> None:
        added = {}
        try:
            with self.store.batch():
                for address in addresses:
                    added[self.store.put("household", {"address": address})["id"]] = {"address": address}
                if fail:
                    raise RuntimeError("abandoned import")
        except RuntimeError:
            return
        self.model.update(added)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = Store.open(self.directory, PASSPHRASE)
        self.store.storage.min_compact_bytes = 2048

    @precondition(lambda self: self.model)
    @rule()
    def compact(self) -> None:
        self.store.compact()

    @invariant()
    def matches_the_model(self) -> None:
        live = {record_id: fields for record_id, fields in self.model.items() if record_id not in self.deleted}
        stored = {}
        for envelope in self.store.records("household"):
            flat = view(envelope)
            stored[flat["id"]] = {k: v for k, v in flat.items() if k not in ("id", "kind", "grid")}
        assert stored == live
        assert {e["id"] for e in self.store.records("household", include_deleted=True)} == set(self.model)
        assert self.store.pending_count() == len(self.model)


StoreBehavesLikeADict.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestStoreModel = StoreBehavesLikeADict.TestCase
