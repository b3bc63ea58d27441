"""A store and a server database written before campaigns existed (tests/fixtures/before_campaigns) read with
today's code: the sampling round they hold is a campaign of the ``sampling`` template whose left-out list is the
"nobody left out" list the round had, on the tablet and on the server; nothing needs migrating and nothing is lost."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from field_agent.domain.campaigns.results import coverage, find_targets
from field_agent.domain.campaigns.rounds import round_campaign, round_key, round_results
from field_agent.domain.envelope import view
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, nobody_left_out
from field_agent.store import Store
from server_stub.campaigns import campaign_summaries
from server_stub.db import open_database

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "before_campaigns"
DAY = date(2026, 12, 6)  # the day the fixtures were written: ages and the round are relative to it
PASSPHRASE = "correct horse battery staple"


def legacy_left_out(views: list[dict]) -> tuple[str, set[str]]:
    (round_,) = [v for v in views if v["kind"] == "sampling_round"]
    residents = [v for v in views if v["kind"] == "resident" and not v.get("_deleted")]
    samplings = [v for v in views if v["kind"] == "sampling"]
    before = nobody_left_out(residents, samplings, round_["id"], DAY, DEFAULT_ELIGIBILITY)
    return round_["id"], {r["id"] for r in before}


def test_a_store_written_before_campaigns_shows_its_round_as_a_campaign(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tablet", tmp_path / "tablet")
    store = Store.open(tmp_path / "tablet", PASSPHRASE)
    try:
        views = [view(e) for e in store.records(None, include_deleted=True)]
    finally:
        store.close()
    assert len(views) == 124  # every record it was written with
    round_id, expected = legacy_left_out(views)
    campaign = round_campaign(next(v for v in views if v["id"] == round_id))
    residents = [v for v in views if v["kind"] == "resident"]
    households = {v["id"]: v for v in views if v["kind"] == "household"}
    samplings = [v for v in views if v["kind"] == "sampling"]
    cover = coverage(campaign, find_targets(campaign, residents, households, DAY), round_results(samplings, round_id))
    assert set(cover.left_out) == expected and expected
    assert len(cover.done) == sum(1 for s in samplings if s["status"] == "sampled")


def test_a_server_database_written_before_campaigns_lists_its_round_as_a_campaign(tmp_path: Path) -> None:
    for name in ("server.db", "server.db.key"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    with open_database(f"sqlite:///{tmp_path / 'server.db'}") as db:
        views = [view(e) for e in db.iter_records()]
        round_id, expected = legacy_left_out(views)
        (summary,) = campaign_summaries(db, DAY)
        assert (summary.key, summary.template, summary.status) == (round_key(round_id), "sampling", "active")
        (grid,) = summary.grids
        assert set(grid.coverage.left_out) == expected and expected
        assert len(views) == 124
