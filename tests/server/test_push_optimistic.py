"""A push is planned from the committed records without a lock and committed under the grid's lock; when another
push wrote one of its records in between, the plan is made again under the lock, so no write is ever lost."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from field_agent.protocol.merge import apply_change
from server_stub.enrolment import authenticate
from server_stub.push import push
from server_stub.push_body import parse_push

from .harness import Harness, Tablet, household


def push_directly(server: Harness, device: dict[str, Any], batch_id: str, change: dict[str, Any]) -> None:
    """Apply one change as the push route would, from this thread (no HTTP)."""
    body = orjson.dumps({"batch_id": batch_id, "changes": [change]})
    batch_id, changes, _ = parse_push(body, server.settings)
    push(server.db, device, batch_id, changes, server.settings)


@contextmanager
def another_push_after_the_read(
    server: Harness, tablet: Tablet, batch_id: str, change: dict[str, Any]
) -> Iterator[list[str]]:
    """While inside, the next push's read of the records is followed at once by ``tablet`` pushing ``change``
    (committed before that push takes its lock); the list yielded names the interleaved push once it ran."""
    real_read = server.db.read_versions
    device = authenticate(server.db, f"Bearer {tablet.enrolment['token']}")
    interleaved: list[str] = []

    def read_then_let_the_other_push_commit(ids: Any) -> Any:
        stale = real_read(ids)
        if not interleaved:  # only after the first read, not around the interleaved push's own
            interleaved.append(batch_id)
            push_directly(server, device, batch_id, change)
        return stale

    server.db.read_versions = read_then_let_the_other_push_commit  # type: ignore[method-assign]
    try:
        yield interleaved
    finally:
        del server.db.read_versions


async def test_a_push_planned_from_stale_records_is_replanned_under_the_lock(any_server: Harness) -> None:
    server = any_server
    grid = server.grid()
    first = await server.tablet(grid, worker="林芳")
    second = await server.tablet(grid, worker="陈军")
    created = first.edit(values=household("5栋101", notes="原始"))
    await first.push_ok([created])
    await second.pull_all()
    record_id = created["record"]
    original = server.db.get_record(record_id)

    change_a = first.edit(record_id, values={"notes": "林芳改", "phone": "13800000001"}, sets={"tags": {"a": True}})
    change_b = second.edit(record_id, values={"notes": "陈军改"}, sets={"tags": {"b": True}})

    # the second tablet's push reads the records, then the first tablet's push commits before it takes the lock
    with another_push_after_the_read(server, first, "first-tablet-0001", change_a) as interleaved:
        results_b = await second.push_ok([change_b])

    assert interleaved, "the first tablet's push did not run between the read and the commit"
    expected, _ = apply_change(copy.deepcopy(original), change_a)
    expected, outcome_b = apply_change(expected, change_b)
    stored = server.db.get_record(record_id)
    assert stored == expected  # both pushes' writes, merged in commit order: nothing lost
    assert stored["fields"]["phone"] == "13800000001"
    assert sorted(stored["sets"]["tags"]) == ["a", "b"]
    assert results_b[0]["status"] == outcome_b.status
    assert results_b[0]["conflicts"] == list(outcome_b.conflicts)
    # the record's last write is the second push's: a pull after the first push's cursor sees the merged record
    await first.pull_all()
    assert first.replica[record_id] == stored


async def test_a_record_made_by_another_grid_meanwhile_is_refused_not_overwritten(any_server: Harness) -> None:
    server = any_server
    grid_a, grid_b = server.grid("一网格"), server.grid("二网格")
    tablet_a = await server.tablet(grid_a, worker="林芳")
    tablet_b = await server.tablet(grid_b, worker="陈军")
    change_a = tablet_a.edit("shared-id-0001", values=household("1栋101"))
    change_b = tablet_b.edit("shared-id-0001", values=household("9栋909"))
    with another_push_after_the_read(server, tablet_a, "grid-a-batch-0001", change_a) as pushed:
        results = await tablet_b.push_ok([change_b])

    assert pushed
    assert results[0]["status"] == "refused" and results[0]["code"] == "record_mismatch"
    stored = server.db.get_record("shared-id-0001")
    assert stored["grid"] == grid_a and stored["fields"]["address"] == "1栋101"
