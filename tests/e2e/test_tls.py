"""Enrolment pins the server's self-signed certificate named by the code; another certificate is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from field_agent.sync.agent import SyncAgent, enroll
from field_agent.sync.errors import CertificateMismatch, EnrollError
from server_stub.tls import ensure_certificate

from .harness import FAST_RETRY, Town, open_store, sync


def tls_town(directory: Path) -> Town:
    certificate = ensure_certificate(directory / "tls")
    town = Town(directory, ssl={"ssl_certfile": str(certificate.cert_path), "ssl_keyfile": str(certificate.key_path)})
    town.fingerprint = certificate.fingerprint  # type: ignore[attr-defined]
    return town.start()


@pytest.fixture
def towns(tmp_path: Path) -> Iterator[tuple[Town, Town]]:
    first, second = tls_town(tmp_path / "one"), tls_town(tmp_path / "two")
    yield first, second
    first.stop()
    second.stop()


async def test_the_pinned_certificate_is_used_and_no_other(towns: tuple[Town, Town], tmp_path: Path) -> None:
    town, impostor = towns
    grid = town.new_grid()
    store = open_store(tmp_path, "tablet")
    code = f"{town.code(grid)}:{town.fingerprint.upper()}"  # type: ignore[attr-defined]
    answer = await enroll(store, town.url, code, "tablet")
    assert answer.grid == grid
    assert store.meta_get("pinned_cert").startswith("-----BEGIN CERTIFICATE-----")
    store.put("household", {"address": "9号"})
    assert (await sync(store)).pushed == 1

    result = await SyncAgent(store, server_url=impostor.url, retry=FAST_RETRY).sync()
    assert result.error_kind == "certificate"
    assert "not the pinned one" in result.error
    assert store.pending_count() == 0


async def test_a_code_naming_another_certificate_is_refused_before_sending_it(
    towns: tuple[Town, Town], tmp_path: Path
) -> None:
    town, impostor = towns
    grid = town.new_grid()
    store = open_store(tmp_path, "tablet")
    code = f"{town.code(grid)}:{town.fingerprint}"  # type: ignore[attr-defined]
    with pytest.raises(CertificateMismatch, match="named by the code"):
        await enroll(store, impostor.url, code, "tablet")
    assert store.meta_get("token") is None
    with pytest.raises(EnrollError, match="https://"):
        await enroll(store, impostor.url.replace("https", "http"), code, "tablet")
    await enroll(store, town.url, code, "tablet")  # the code was not spent on the impostor
    assert store.meta_get("grid") == grid
