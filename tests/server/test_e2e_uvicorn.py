"""End to end over real sockets: ``field-server serve`` under uvicorn on 127.0.0.1, plain HTTP and TLS."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.ids import new_id, new_node_id

SERVER = [sys.executable, "-c", "from server_stub.cli import main; main()"]


def admin(data_dir: Path, *args: str) -> dict:
    done = subprocess.run([*SERVER, "--data-dir", str(data_dir), *args, "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, verify: ssl.SSLContext | bool = True) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", verify=verify, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server at {url} did not come up")


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path, dict]]:
    tls = getattr(request, "param", False)
    port = free_port()
    args = [*SERVER, "--data-dir", str(tmp_path), "serve", "--port", str(port), "--json"]
    process = subprocess.Popen(
        [*args, "--tls"] if tls else args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = json.loads(process.stdout.readline())
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        context = ssl.create_default_context(cafile=banner["certificate"]) if tls else True
        wait_until_up(url, context)
        yield url, tmp_path, banner
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_two_tablets_sync_through_a_real_server_and_revocation_bites(served: tuple[str, Path, dict]) -> None:
    url, data_dir, _ = served
    grid = admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")["grid"]
    tablets = []
    for worker in ("王芳", "李娜"):
        code = admin(data_dir, "enroll-code", "--grid", grid, "--worker", worker, "--role", "worker")["code"]
        node = new_node_id()
        answer = httpx.post(f"{url}/v1/enroll", json={"code": code, "node_id": node}).json()
        tablets.append(
            (
                httpx.Client(base_url=url, headers={"Authorization": f"Bearer {answer['token']}"}),
                HybridClock(node),
                answer,
            )
        )
    (first, clock, _), (second, _, second_info) = tablets
    envelope, change = local_edit(
        None,
        clock,
        record_id=new_id(),
        kind="household",
        grid=grid,
        values={"address": "5栋1单元302", "notes": "独居老人"},
    )
    pushed = first.post("/v1/push", json={"batch_id": "e2e-batch-0001", "changes": [change]}).json()
    assert pushed["results"][0]["status"] == "applied"
    page = second.get("/v1/pull", params={"cursor": 0}).json()
    assert [record["id"] for record in page["records"]] == [grid, envelope["id"]]
    assert page["records"][1]["fields"]["notes"] == "独居老人" and page["more"] is False

    listed = admin(data_dir, "device", "list")["devices"]
    assert {device["worker"] for device in listed} == {"王芳", "李娜"}
    assert next(d for d in listed if d["worker"] == "王芳")["last_sync"] is not None
    admin(data_dir, "device", "revoke", second_info["device_id"], "--reason", "tablet lost")
    refused = second.get("/v1/me")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "device_revoked"
    assert first.get("/v1/me").status_code == 200
    for client, _, _ in tablets:
        client.close()


@pytest.mark.parametrize("served", [True], indirect=True, ids=["tls"])
def test_tls_server_prints_the_fingerprint_that_codes_carry(served: tuple[str, Path, dict]) -> None:
    url, data_dir, banner = served
    certificate = Path(banner["certificate"]).read_text()
    der = ssl.PEM_cert_to_DER_cert(certificate)
    assert banner["fingerprint"] == hashlib.sha256(der).hexdigest()
    grid = admin(data_dir, "grid", "create", "--town", "玉屏街道", "--name", "东门一网格")["grid"]
    code = admin(data_dir, "enroll-code", "--grid", grid, "--worker", "王芳", "--role", "leader")["code"]
    secret, fingerprint = code.split(":")
    assert fingerprint == banner["fingerprint"] and len(fingerprint) == 64
    pinned = ssl.create_default_context(cafile=banner["certificate"])
    answer = httpx.post(f"{url}/v1/enroll", json={"code": code, "node_id": new_node_id()}, verify=pinned)
    assert answer.status_code == 200 and answer.json()["role"] == "leader"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/health", verify=ssl.create_default_context())  # not trusted without the pin
    assert secret.count("-") == 3
