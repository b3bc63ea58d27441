"""Who may do what: grids are sealed from each other, leaders alone change the grid, codes and tokens die."""

from __future__ import annotations

from field_agent.domain.ids import new_node_id
from server_stub.config import Settings
from server_stub.enrolment import issue_code, revoke_device

from .harness import Harness, household


async def test_a_device_of_grid_a_cannot_read_or_write_grid_b(server: Harness) -> None:
    grid_a, grid_b = server.grid("甲网格"), server.grid("乙网格")
    tablet_a, tablet_b = await server.tablet(grid_a), await server.tablet(grid_b)
    secret = tablet_b.edit(values=household(notes="乙的住户"))
    await tablet_b.push_ok([secret])

    seen = {envelope["id"] for envelope in await tablet_a.pull_all()}
    assert seen == {grid_a}

    intruding = tablet_a.edit(secret["record"], values=household(notes="改写"), grid=grid_b)
    result = (await tablet_a.push_ok([intruding]))[0]
    assert result["status"] == "refused" and result["code"] == "wrong_grid"
    hijack = dict(intruding, grid=grid_a)  # same id, claimed for grid A
    result = (await tablet_a.push_ok([hijack]))[0]
    assert result["status"] == "refused" and result["code"] == "record_mismatch"
    assert server.db.get_record(secret["record"])["fields"]["notes"] == "乙的住户"
    assert server.db.get_record(secret["record"])["grid"] == grid_b


async def test_only_the_leader_changes_roles_and_mode(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader", worker="陈组长")
    worker = await server.tablet(grid, role="worker")
    await leader.pull_all()
    await worker.pull_all()
    for values in ({"mode": "wartime"}, {"leader": "王芳"}, {"members": [{"name": "王芳", "role": "publicity"}]}):
        result = (await worker.push_ok([worker.edit(grid, kind="grid", values=values)]))[0]
        assert result["status"] == "refused" and result["code"] == "leader_only", values
    assert server.db.get_record(grid)["fields"]["mode"] == "normal"
    party = (await worker.push_ok([worker.edit(grid, kind="grid", values={"party_org": "东门社区第一党支部"})]))[0]
    assert party["status"] == "refused" and party["code"] == "leader_only"  # every field of the grid is the leader's
    result = (await leader.push_ok([leader.edit(grid, kind="grid", values={"mode": "wartime"})]))[0]
    assert result["status"] == "applied"
    assert server.db.get_record(grid)["fields"]["mode"] == "wartime"


async def test_revoked_device_gets_401_with_the_reason(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    assert (await tablet.client.get("/v1/me")).status_code == 200
    revoke_device(server.db, tablet.enrolment["device_id"], "tablet lost on 3 Nov")
    for response in (
        await tablet.client.get("/v1/me"),
        await tablet.client.get("/v1/pull"),
        await tablet.push([tablet.edit(values=household())]),
    ):
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "device_revoked" and "tablet lost on 3 Nov" in error["message"]
    devices = {d["id"]: d for d in server.db.list_devices()}
    assert devices[tablet.enrolment["device_id"]]["revoked"] is not None


async def test_missing_or_unknown_tokens_are_401(server: Harness) -> None:
    anonymous = server.client()
    response = await anonymous.get("/v1/pull")
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_missing"
    assert response.headers["www-authenticate"] == "Bearer"
    forged = server.client("not-a-real-token")
    response = await forged.get("/v1/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_invalid"


async def test_used_expired_and_unknown_codes_are_refused(server: Harness) -> None:
    grid = server.grid()
    client = server.client()
    code = server.code(grid)
    first = await client.post("/v1/enroll", json={"code": code.lower().replace("-", ""), "node_id": new_node_id()})
    assert first.status_code == 200
    again = await client.post("/v1/enroll", json={"code": code, "node_id": new_node_id()})
    assert again.status_code == 410 and again.json()["error"]["code"] == "code_used"

    expired = issue_code(server.db, grid, "王芳", "worker", ttl_ms=1000, now_ms=1_000)["code"]
    response = await client.post("/v1/enroll", json={"code": expired, "node_id": new_node_id()})
    assert response.status_code == 410 and response.json()["error"]["code"] == "code_expired"

    response = await client.post("/v1/enroll", json={"code": "AAAA-BBBB-CCCC-DDDD", "node_id": new_node_id()})
    assert response.status_code == 401 and response.json()["error"]["code"] == "code_invalid"


async def test_code_with_pinned_fingerprint_is_accepted(server: Harness) -> None:
    code = server.code(server.grid(), role="leader")
    response = await server.client().post("/v1/enroll", json={"code": f"{code}:{'ab' * 32}", "node_id": new_node_id()})
    assert response.status_code == 200 and response.json()["role"] == "leader"


async def test_a_node_id_enrols_one_active_device(server: Harness) -> None:
    grid = server.grid()
    tablet = await server.tablet(grid)
    client = server.client()
    response = await client.post("/v1/enroll", json={"code": server.code(grid), "node_id": tablet.node})
    assert response.status_code == 409 and response.json()["error"]["code"] == "node_in_use"
    revoke_device(server.db, tablet.enrolment["device_id"])
    response = await client.post("/v1/enroll", json={"code": server.code(grid), "node_id": tablet.node})
    assert response.status_code == 200


async def test_enrolment_attempts_are_rate_limited(sqlite_url: str) -> None:
    harness = Harness(sqlite_url, Settings(enroll_attempts=3, enroll_window_s=600))
    try:
        client = harness.client()
        statuses = []
        for _ in range(5):
            response = await client.post("/v1/enroll", json={"code": "WRONG-CODE", "node_id": new_node_id()})
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429, 429]
        assert 0 < int(response.headers["retry-after"]) <= 600
        assert response.json()["error"]["code"] == "rate_limited"
        good = harness.code(harness.grid())
        refused = await client.post("/v1/enroll", json={"code": good, "node_id": new_node_id()})
        assert refused.status_code == 429  # even a good code waits: the limit is per address, not per outcome
    finally:
        await harness.close()


async def test_a_grid_record_must_be_its_own_grid(server: Harness) -> None:
    grid = server.grid()
    leader = await server.tablet(grid, role="leader")
    fake = leader.edit(
        kind="grid", values={"town": "玉屏街道", "community": "东门社区", "name": "假网格", "mode": "normal"}
    )
    result = (await leader.push_ok([fake]))[0]
    assert result["status"] == "refused" and result["code"] == "grid_record_id"
