"""The read model holds views only: who lives where, and a household's visits, come from the store's own index."""

from __future__ import annotations

from pathlib import Path

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.tui.model import GridModel
from field_agent.tui.session import Session

from .conftest import NOW, PASSPHRASE, frozen_now


def test_relations_follow_saves_and_pulls_through_the_stores_index(store_path: Path) -> None:
    session = Session.unlock(store_path, PASSPHRASE, now=frozen_now)
    try:
        model = session.model
        store = session.store
        assert store is not None
        assert not hasattr(model, "residents_by_household")  # no second index of the records
        first, second = sorted(model.of_kind("household"))[:2]
        resident = model.residents_of(first)[0]

        moved = session.save("resident", {"household": second}, record_id=resident["id"])
        assert moved["household"] == second
        assert resident["id"] not in {r["id"] for r in model.residents_of(first)}
        assert resident["id"] in {r["id"] for r in model.residents_of(second)}
        assert model.residents_of(second) == sorted(
            [model.records[rid] for rid in store.index.referencing("resident", "household", second)],
            key=lambda r: (r.get("name") or "", r["id"]),
        )

        visit = session.save(
            "visit", {"household": second, "visited_at": NOW.isoformat(), "outcome": "met", "worker": "w"}
        )
        assert model.visits_of(second)[0]["id"] == visit["id"]

        store.delete(visit["id"])
        assert visit["id"] not in {v["id"] for v in model.visits_of(second)}  # the index dropped it at once
    finally:
        session.close()


def test_a_pulled_record_shows_once_the_model_has_its_view(store_path: Path) -> None:
    session = Session.unlock(store_path, PASSPHRASE, now=frozen_now)
    try:
        model: GridModel = session.model
        store = session.store
        assert store is not None
        household = sorted(model.of_kind("household"))[0]
        before = len(model.residents_of(household))
        envelope, _ = local_edit(
            None, HybridClock("0000000000ff"), record_id="pulled-1", kind="resident", grid=store.grid or "",
            values={"name": "孙悟空", "household": household},
        )  # fmt: skip
        store.apply_pulled([envelope], next_cursor=1)
        assert len(model.residents_of(household)) == before  # indexed, but no view yet: not shown half-made
        session.load()
        assert "pulled-1" in {r["id"] for r in session.model.residents_of(household)}
    finally:
        session.close()
