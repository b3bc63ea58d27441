"""The town's retention window for tablets (server_stub/town_settings.py) on SQLite and PostgreSQL: stored in the
database, delivered on the last page of a pull; and the grid-scoped lookup of one record (``GET /v1/records/{id}``)."""

from __future__ import annotations

from server_stub.retention import RetentionError
from server_stub.town_settings import DEFAULT_TABLET_RETENTION_DAYS, set_tablet_retention, tablet_retention_days

from .harness import Harness, household


async def test_the_window_is_stored_and_rides_on_the_last_page_only(any_server: Harness) -> None:
    grid = any_server.grid()
    tablet = await any_server.tablet(grid)
    await tablet.push_ok([tablet.edit(values=household(f"{n}栋")) for n in range(3)])
    assert tablet_retention_days(any_server.db) == DEFAULT_TABLET_RETENTION_DAYS == 14

    first = (await tablet.client.get("/v1/pull", params={"cursor": 0, "limit": 2})).json()
    assert first["more"] and "tablet_retention_days" not in first
    last = (await tablet.client.get("/v1/pull", params={"cursor": first["next_cursor"], "limit": 10})).json()
    assert not last["more"] and last["tablet_retention_days"] == 14

    assert set_tablet_retention(any_server.db, "3d") == 3
    assert (await tablet.client.get("/v1/pull", params={"cursor": 0})).json()["tablet_retention_days"] == 3
    assert set_tablet_retention(any_server.db, "off") is None
    assert (await tablet.client.get("/v1/pull", params={"cursor": 0})).json()["tablet_retention_days"] is None
    for wrong in ("-1", "three", "9999"):
        try:
            set_tablet_retention(any_server.db, wrong)
        except RetentionError:
            continue
        raise AssertionError(f"{wrong!r} was accepted")
    assert tablet_retention_days(any_server.db) is None


async def test_a_record_of_another_grid_is_answered_as_a_missing_one(any_server: Harness) -> None:
    ours, theirs = any_server.grid("一网格"), any_server.grid("二网格")
    tablet, other = await any_server.tablet(ours), await any_server.tablet(theirs, worker="李四")
    mine = tablet.edit(values=household("1栋"))
    foreign = other.edit(values=household("2栋"))
    await tablet.push_ok([mine])
    await other.push_ok([foreign])

    found = await tablet.client.get(f"/v1/records/{mine['record']}")
    assert found.status_code == 200 and found.json() == tablet.replica[mine["record"]]
    of_other_grid = await tablet.client.get(f"/v1/records/{foreign['record']}")
    missing = await tablet.client.get("/v1/records/0193a1b2-0000-7000-8000-00000000dead")
    assert of_other_grid.status_code == missing.status_code == 404
    assert of_other_grid.json() == missing.json()
    assert (await any_server.client().get(f"/v1/records/{mine['record']}")).status_code == 401
    assert (await tablet.client.get("/v1/records/bad%20id")).status_code == 422
