"""The HTTP API as a tablet sees it: enrol, who am I, push, pull, and the errors for bad input."""

from __future__ import annotations

import pytest

from field_agent.domain.hlc import HybridClock

from .harness import Harness, household


async def test_enrolled_tablet_pushes_and_pulls_its_grid(server: Harness) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid, worker="李娜")
    assert tablet.enrolment["grid_name"] == "一网格" and tablet.enrolment["town"] == "玉屏街道"
    me = (await tablet.client.get("/v1/me")).json()
    assert me["grid"] == grid and me["worker"] == "李娜" and me["role"] == "worker"

    change = tablet.edit(values=household(notes="老人独居"), sets={"tags": {"elderly": True}})
    results = await tablet.push_ok([change])
    assert results == [{"record": change["record"], "status": "applied", "code": None, "reason": None, "conflicts": []}]

    other = await server.tablet(grid, worker="张伟")
    pulled = {envelope["id"]: envelope for envelope in await other.pull_all(limit=1)}
    assert set(pulled) == {grid, change["record"]}
    assert pulled[change["record"]]["fields"]["notes"] == "老人独居"
    assert pulled[change["record"]]["sets"]["tags"]["elderly"][1] is True
    assert other.cursor > 0
    assert await other.pull_all() == []


async def test_same_batch_sent_five_times_is_applied_once(server: Harness) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid)
    change = tablet.edit(values=household())
    answers = [await tablet.push([change], batch_id="night-batch-0001") for _ in range(5)]
    bodies = [answer.json() for answer in answers]
    assert [body["replayed"] for body in bodies] == [False, True, True, True, True]
    assert all(body["results"] == bodies[0]["results"] for body in bodies)
    reader = await server.tablet(grid)
    records = await reader.pull_all()
    assert [r["id"] for r in records].count(change["record"]) == 1
    assert reader.cursor == 2  # the grid record and one write of the household: nothing applied again


async def test_repushing_a_change_renews_its_sequence_without_changing_it(server: Harness) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid)
    change = tablet.edit(values=household())
    await tablet.push_ok([change])
    await tablet.pull_all()
    before = server.db.get_record(change["record"])
    assert await tablet.push_ok([change]) == [
        {"record": change["record"], "status": "applied", "code": None, "reason": None, "conflicts": []}
    ]
    assert server.db.get_record(change["record"]) == before
    again = await tablet.pull_all()
    assert [r["id"] for r in again] == [change["record"]]


async def test_true_conflict_is_kept_on_the_record(server: Harness) -> None:
    grid = server.grid()
    first, second = await server.tablet(grid), await server.tablet(grid)
    created = first.edit(values=household(phone="13812345678"))
    await first.push_ok([created])
    await second.pull_all()
    edit_a = first.edit(created["record"], values={"phone": "13900001111"})
    edit_b = second.edit(created["record"], values={"phone": "13700002222"})
    assert (await first.push_ok([edit_a]))[0]["status"] == "applied"
    result = (await second.push_ok([edit_b]))[0]
    assert result["status"] == "conflict" and len(result["conflicts"]) == 1
    record = server.db.get_record(created["record"])
    conflict = record["conflicts"][result["conflicts"][0]]
    assert {conflict["winner"]["value"], conflict["loser"]["value"]} == {"13900001111", "13700002222"}
    assert conflict["resolved"] is None
    await first.pull_all()
    resolve = first.edit(created["record"], resolve=(result["conflicts"][0],))
    assert (await first.push_ok([resolve]))[0]["status"] == "applied"
    assert server.db.get_record(created["record"])["conflicts"][result["conflicts"][0]]["resolved"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda c, t: c["fields"]["notes"].update(stamp=HybridClock("0123456789ab").now()), "foreign_stamp"),
        (lambda c, t: c["fields"]["notes"].update(stamp=f"{9 * 10**14:015d}-00000-{t.node}"), "stamp_in_future"),
        (lambda c, t: c["fields"]["notes"].update(value=12), "invalid_record"),
    ],
    ids=["foreign-node", "future", "invalid-value"],
)
async def test_bad_change_is_refused_and_the_rest_of_the_batch_applies(server: Harness, mutate, code: str) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid)
    good = tablet.edit(values=household())
    bad = tablet.edit(values=household(notes="x"))
    mutate(bad, tablet)
    results = await tablet.push_ok([good, bad])
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "refused" and results[1]["code"] == code and results[1]["reason"]
    assert server.db.get_record(good["record"]) is not None
    assert server.db.get_record(bad["record"]) is None


async def test_record_of_another_kind_is_refused(server: Harness) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid)
    change = tablet.edit(values=household())
    await tablet.push_ok([change])
    clash = dict(change, kind="task")
    result = (await tablet.push_ok([clash]))[0]
    assert result["status"] == "refused" and result["code"] == "record_mismatch"


async def test_malformed_json_is_400(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    for body in (b"{not json", b"[" * 5000):
        response = await tablet.client.post("/v1/push", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] in ("malformed_json", "bad_request")


async def test_schema_violation_is_422_naming_the_field(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    change = tablet.edit(values=household())
    change["fields"]["x" * 80] = change["fields"]["address"]
    response = await tablet.push([change])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "changes.0.fields" in response.json()["error"]["message"]


async def test_values_too_deep_or_too_long_are_422(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    deep: object = "leaf"
    for _ in range(20):
        deep = [deep]
    for value, code in ((deep, "value_too_deep"), ("长" * 5000, "value_too_long")):
        change = tablet.edit(values=household(notes="n"))
        change["fields"]["notes"]["value"] = value
        response = await tablet.push([change])
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == code and "changes.0.fields.notes" in error["message"]
        assert server.db.get_record(change["record"]) is None


async def test_too_many_changes_and_too_large_bodies_are_refused(sqlite_url: str) -> None:
    from server_stub.config import Settings

    harness = Harness(sqlite_url, Settings(max_body_bytes=64 * 1024))
    try:
        tablet = await harness.tablet(harness.grid())
        many = [tablet.edit(values=household()) for _ in range(1001)]
        response = await tablet.push(many)
        assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
        response = await tablet.push(many[:600])
        assert response.status_code == 413
        small = await tablet.push(many[:10])
        assert small.status_code == 200
    finally:
        await harness.close()
    big = Harness(sqlite_url)
    try:
        tablet = await big.tablet(big.grid())
        response = await tablet.push([tablet.edit(values=household()) for _ in range(1001)])
        assert response.status_code == 422 and "changes" in response.json()["error"]["message"]
    finally:
        await big.close()


async def test_pull_limits_are_validated(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    for params in ({"cursor": -1}, {"limit": 0}, {"limit": 5000}, {"cursor": "abc"}):
        response = await tablet.client.get("/v1/pull", params=params)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


async def test_unknown_paths_and_methods_answer_json(server: Harness) -> None:
    client = server.client()
    missing = await client.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await client.get("/v1/push")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


async def test_openapi_documents_the_api(server: Harness) -> None:
    document = (await server.client().get("/openapi.json")).json()
    assert {"/v1/enroll", "/v1/me", "/v1/push", "/v1/pull", "/v1/health"} <= set(document["paths"])
    assert "ErrorBody" in document["components"]["schemas"]
    assert "401" in document["paths"]["/v1/push"]["post"]["responses"]


async def test_office_overview_is_mounted_and_needs_the_office_token(server: Harness) -> None:
    from server_stub.office import issue_office_token

    grid = server.grid()
    tablet = await server.tablet(grid)
    refused = await tablet.client.get("/v1/office/overview")  # a device token is not the office's
    assert refused.status_code == 401 and refused.json()["error"]["code"].startswith("office_token")
    office = server.client(issue_office_token(server.db))
    overview = await office.get("/v1/office/overview")
    assert overview.status_code == 200
    assert grid in overview.text


async def test_a_database_that_stops_answering_is_503_not_500(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    server.db.close()
    response = await tablet.client.get("/v1/me")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "30"


async def test_enrol_body_that_is_not_utf8_or_too_deep_names_the_problem(server: Harness) -> None:
    client = server.client()
    cases = ((b'{"code": "\xff\xfe"}', "not UTF-8"), (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"))
    for body, reason in cases:
        response = await client.post("/v1/enroll", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "malformed_json" and reason in error["message"]


async def test_a_device_name_with_terminal_controls_is_refused(server: Harness) -> None:
    """The office reads device names in a terminal (device list): a name that would retitle or clear it is refused,
    and the code stays unused for the real enrolment."""
    grid = server.grid()
    code = server.code(grid)
    client = server.client()
    for name in ("平板\x1b]0;pwned\x07", "平板\x1b[2J", "平板\n第二行", "\x9b31m"):
        body = {"code": code, "node_id": "0123456789ab", "device_name": name}
        response = await client.post("/v1/enroll", json=body)
        assert response.status_code == 422, response.text
        assert "device_name" in response.text
    response = await client.post("/v1/enroll", json={"code": code, "node_id": "0123456789ab", "device_name": "平板 A"})
    assert response.status_code == 200, response.text


async def test_a_query_parameter_the_route_does_not_read_is_named_not_ignored(server: Harness) -> None:
    """A misspelt cursor would otherwise pull the whole grid again, or push without its cursor: 422, named."""
    tablet = await server.tablet(server.grid())
    pulled = await tablet.client.get("/v1/pull", params={"curser": 5})
    assert pulled.status_code == 422 and pulled.json()["error"]["code"] == "unknown_parameter"
    assert "curser" in pulled.json()["error"]["message"]
    pushed = await tablet.client.post(
        "/v1/push", params={"cursor": 0, "": "null"}, json={"batch_id": "b-000001", "changes": []}
    )
    assert pushed.status_code == 422 and pushed.json()["error"]["code"] == "unknown_parameter"
    ok = await tablet.client.get("/v1/pull", params={"cursor": 0, "limit": 10, "skip_own": "true"})
    assert ok.status_code == 200
