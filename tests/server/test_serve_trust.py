"""``field-server serve`` as a real process on 127.0.0.1: forwarded headers, the access log, and a worker's
tablet (a real encrypted store and the sync agent) that tries to delete its grid."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from field_agent.domain.ids import new_node_id
from field_agent.store import Store
from field_agent.sync.agent import SyncAgent, enroll

from .test_e2e_uvicorn import SERVER, admin, free_port, wait_until_up

PASSPHRASE = "河边第七棵柳树 tablet 4921 slowly"


@contextmanager
def serving(data_dir: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``field-server serve`` with ``options`` until the block ends; the process (its stderr unread) is yielded."""
    port = free_port()
    process = subprocess.Popen(
        [*SERVER, "--data-dir", str(data_dir), "serve", "--port", str(port), "--json", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "FIELD_AGENT_KDF_PROFILE": "test"},
    )
    try:
        json.loads(process.stdout.readline())  # the banner: printed before serving
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        process.stdout.close()
        process.stderr.close()


def stop(process: subprocess.Popen[str]) -> str:
    """Stop the server (SIGTERM: requests in flight finish) and return everything it wrote on stderr."""
    process.terminate()
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    return stderr


def _enrol_attempts(url: str, count: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=url) as client:
        for n in range(count):
            response = client.post(
                "/v1/enroll",
                json={"code": "WRONG-CODE-0000-0000", "node_id": new_node_id()},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            statuses.append(response.status_code)
    return statuses


def test_a_forged_forwarded_for_does_not_escape_the_enrolment_limit(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "1", "--enroll-limit", "10") as (url, _):
        statuses = _enrol_attempts(url, 11)
    assert statuses == [401] * 10 + [429]  # ten addresses claimed, one real one: the limit holds


def test_forwarded_for_is_trusted_only_from_the_named_proxy(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "1", "--enroll-limit", "10", "--forwarded-allow-ips", "127.0.0.1") as (url, _):
        statuses = _enrol_attempts(url, 11)
    assert statuses == [401] * 11  # behind the named proxy every client counts on its own


def test_serve_refuses_a_proxy_that_is_not_an_address(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVER, "--data-dir", str(tmp_path), "serve", "--forwarded-allow-ips", "proxy.local"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "'proxy.local' is not an IP address" in done.stderr


def test_the_access_log_prints_routes_without_tokens_or_personal_data(tmp_path: Path) -> None:
    grid = admin(tmp_path, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")["grid"]
    code = admin(tmp_path, "enroll-code", "--grid", grid, "--worker", "王芳", "--role", "worker")["code"]
    office = admin(tmp_path, "office", "token")["token"]
    with serving(tmp_path, "--workers", "2", "--access-log") as (url, process):
        with httpx.Client(base_url=url) as client:
            token = client.post("/v1/enroll", json={"code": code, "node_id": new_node_id()}).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            assert client.get("/v1/pull", params={"cursor": 0, "limit": 10}, headers=bearer).status_code == 200
            overview = client.get(
                "/v1/office/overview", params={"town": "玉屏街道"}, headers={"Authorization": f"Bearer {office}"}
            )
            assert overview.status_code == 200
            assert client.get("/v1/residents/110101199003071234", headers=bearer).status_code == 404
        stderr = stop(process)
    lines = [line for line in stderr.splitlines() if line.strip()]
    routes = sorted(line.split()[1:4] for line in lines)  # two processes: a line may come before the previous one
    assert routes == sorted(
        [
            ["GET", "/v1/health", "200"],
            ["POST", "/v1/enroll", "200"],
            ["GET", "/v1/pull", "200"],
            ["GET", "/v1/office/overview", "200"],
            ["GET", "(unmatched)", "404"],
        ]
    ), stderr
    assert all(line.split()[0].endswith("+08:00") for line in lines)  # the town's time
    for secret in (token, office, code, "玉屏街道", "110101199003071234", "cursor", "127.0.0.1", grid):
        assert secret not in stderr


def test_a_workers_refused_grid_delete_leaves_the_grid_everywhere(tmp_path: Path) -> None:
    server_dir = tmp_path / "server"
    grid = admin(server_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")["grid"]
    code = admin(server_dir, "enroll-code", "--grid", grid, "--worker", "王芳", "--role", "worker")["code"]
    office = admin(server_dir, "office", "token")["token"]
    with serving(server_dir, "--workers", "1") as (url, _):
        store = Store.create(tmp_path / "tablet", PASSPHRASE, kdf_profile="test")
        try:
            asyncio.run(enroll(store, url, code, "王芳的平板"))
            assert asyncio.run(SyncAgent(store).sync()).error is None
            assert [record["id"] for record in store.records("grid")] == [grid]

            store.delete(grid)  # the worker deletes the grid on the tablet
            result = asyncio.run(SyncAgent(store).sync())
            assert result.error is None and result.refused == 1
            [refusal] = store.refused_changes()
            assert refusal["code"] == "leader_only"
            assert [record["id"] for record in store.records("grid")] == [grid]  # put back on the tablet
            assert store.records("grid")[0]["fields"]["name"] == "东门一网格"
        finally:
            store.close()

        [listed] = admin(server_dir, "grid", "list")["grids"]
        assert (listed["id"], listed["name"], listed["deleted"]) == (grid, "东门一网格", False)
        answer = httpx.get(f"{url}/v1/office/overview", headers={"Authorization": f"Bearer {office}"})
        assert [row["grid"] for row in answer.json()["grids"]] == [grid]
        assert admin(server_dir, "enroll-code", "--grid", grid, "--worker", "李娜", "--role", "worker")["code"]
