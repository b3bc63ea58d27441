"""Stored push answers: kept for a retried batch, forgotten after the retention; a batch re-sent after that is
applied again and changes nothing (the merge is idempotent)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from server_stub.config import Settings

from .harness import Harness, household


@pytest.fixture
async def forgetful(db_url: str) -> AsyncIterator[Harness]:
    """A server that keeps answers for no time at all and forgets them after every push."""
    harness = Harness(db_url, Settings(enroll_attempts=10_000, keep_answers_ms=0, forget_answers_every_ms=0))
    yield harness
    await harness.close()


def stored_answers(server: Harness) -> int:
    with server.db.transaction() as tx:
        return int(tx._run("SELECT count(*) FROM batches").fetchone()[0])  # type: ignore[attr-defined]


async def test_an_answer_older_than_the_retention_is_forgotten_and_the_batch_reapplies_unchanged(
    forgetful: Harness,
) -> None:
    server = forgetful
    tablet = await server.tablet(server.grid())
    first = [tablet.edit(values=household("1栋101", notes="首次"))]
    answer = await tablet.push(first, batch_id="first-batch-0001")
    assert answer.json()["replayed"] is False
    cursor = (await tablet.client.get("/v1/pull", params={"cursor": 0})).json()["next_cursor"]
    before = server.db.get_record(first[0]["record"])
    time.sleep(0.005)  # the next push's clock is past the first answer's
    await tablet.push_ok([tablet.edit(values=household("2栋202"))], batch_id="second-batch-0001")
    assert stored_answers(server) == 1  # the first batch's answer is gone, the second's is kept

    again = await tablet.push(first, batch_id="first-batch-0001")
    assert again.status_code == 200
    body = again.json()
    assert body["replayed"] is False  # not answered from storage: applied again
    assert [result["status"] for result in body["results"]] == ["applied"]
    assert server.db.get_record(first[0]["record"]) == before
    # re-published like every record a push touches (docs/SYNC.md), unchanged and still once
    page = (await tablet.client.get("/v1/pull", params={"cursor": cursor})).json()
    assert [envelope["fields"]["address"] for envelope in page["records"]] == ["2栋202", "1栋101"]
    assert page["records"][1] == before
    assert server.db.count_records(tablet.grid) == 3  # the grid and the two households, none twice


async def test_answers_within_the_retention_are_kept_and_replayed(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    batch = [tablet.edit(values=household("3栋303"))]
    await tablet.push_ok(batch, batch_id="kept-batch-0001")
    await tablet.push_ok([tablet.edit(values=household("4栋404"))], batch_id="kept-batch-0002")
    replay = await tablet.push(batch, batch_id="kept-batch-0001")
    assert replay.json()["replayed"] is True
    assert stored_answers(server) == 2
