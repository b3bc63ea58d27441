"""Every answer is kept out of caches and frames; the office pages run no script (Content-Security-Policy)."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from server_stub.office import issue_office_token

from .harness import Harness


def _check_common(response: httpx.Response) -> None:
    assert response.headers["x-frame-options"] == "DENY", response.request.url
    assert response.headers["cache-control"] == "no-store", response.request.url
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def _check_page(response: httpx.Response) -> None:
    """An HTML page: no script may run, and each of its inline styles is allowed by its hash, nothing else."""
    _check_common(response)
    policy = dict(
        part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'none'" and "script-src" not in policy  # no script at all
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert styles and "<script" not in response.text
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["style-src"].split()


async def test_office_pages_and_answers_carry_the_headers(server: Harness) -> None:
    server.grid()
    browser = server.client()
    login = await browser.get("/office")
    assert login.status_code == 401
    _check_page(login)
    wrong = await browser.post("/office/login", data={"token": "wrong"})
    _check_page(wrong)

    token = issue_office_token(server.db)
    signed_in = await browser.post("/office/login", data={"token": token})
    assert signed_in.status_code == 303
    _check_common(signed_in)
    page = await browser.get("/office")
    assert page.status_code == 200
    _check_page(page)

    office = server.client(token)
    for response in (
        await office.get("/v1/office/overview"),
        await server.client().get("/v1/office/overview"),  # 401 as JSON
        await office.get("/office/ledgers/no-such-ledger.xlsx"),
    ):
        _check_common(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_device_answers_are_not_cached_or_framed(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    for response in (
        await tablet.client.get("/v1/pull"),
        await tablet.client.get("/v1/me"),
        await server.client().get("/v1/pull"),  # 401
        await server.client().get("/no/such/path"),  # 404
        await tablet.client.post("/v1/push", content=b"x" * (server.settings.max_body_bytes + 1)),  # 413
    ):
        _check_common(response)
