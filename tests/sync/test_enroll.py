"""Enrolment: codes with and without a certificate fingerprint, credentials kept in the store, clear refusals."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from field_agent.sync.enroll import enroll, parse_code
from field_agent.sync.errors import CertificateMismatch, EnrollError

from .fakeserver import FakeServer
from .memstore import MemStore


def self_signed_der() -> bytes:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "town")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return certificate.public_bytes(serialization.Encoding.DER)


DER = self_signed_der()
FINGERPRINT = hashlib.sha256(DER).hexdigest()


def test_codes_parse_with_and_without_a_fingerprint() -> None:
    assert parse_code(" ABCD-EFGH ") == ("ABCD-EFGH", None)
    assert parse_code(f"ABCD:{FINGERPRINT.upper()}") == ("ABCD", FINGERPRINT)
    for bad in ("", ":abc", "ABCD:1234"):
        with pytest.raises(EnrollError):
            parse_code(bad)


async def test_enrolment_keeps_the_credentials_in_the_store() -> None:
    server = FakeServer()
    server.codes["CODE-1234"] = "g1"
    store = MemStore(grid="g1")
    answer = await enroll(store, "http://town.test/", "CODE-1234", "tab", transport=server.transport())
    assert answer.grid == "g1"
    assert store.meta_get("server_url") == "http://town.test"
    assert store.meta_get("token") in server.devices
    assert (store.meta_get("worker"), store.meta_get("role"), store.meta_get("pinned_cert")) == ("Li", "worker", None)
    assert server.requests[0][2] == {"code": "CODE-1234", "node_id": store.node_id, "device_name": "tab"}


async def test_a_used_code_is_refused_with_the_servers_reason() -> None:
    store = MemStore()
    with pytest.raises(EnrollError, match="unknown, used or expired"):
        await enroll(store, "http://town.test", "USED-CODE", "tab", transport=FakeServer().transport())
    assert store.meta_get("token") is None


async def test_a_fingerprint_pins_the_fetched_certificate() -> None:
    server = FakeServer()
    server.codes[f"CODE:{FINGERPRINT}"] = "g1"
    fetched: list[tuple[str, int]] = []

    async def fetch(host: str, port: int) -> bytes:
        fetched.append((host, port))
        return DER

    store = MemStore(grid="g1")
    await enroll(store, "https://town.test:8470", f"CODE:{FINGERPRINT}", "tab", transport=server.transport(),
                 fetch_cert=fetch)  # fmt: skip
    assert fetched == [("town.test", 8470)]
    assert "BEGIN CERTIFICATE" in store.meta_get("pinned_cert")

    async def other(host: str, port: int) -> bytes:
        return b"another certificate"

    fresh = MemStore(grid="g1")
    with pytest.raises(CertificateMismatch, match="someone may be intercepting"):
        await enroll(fresh, "https://town.test", f"CODE:{FINGERPRINT}", "tab", fetch_cert=other)
    assert fresh.meta_get("token") is None


async def test_a_store_of_another_grid_is_not_re_enrolled() -> None:
    server = FakeServer()
    server.codes["CODE-9999"] = "g2"
    store = MemStore(grid="g1")
    store.edit(values={"address": "1"})
    with pytest.raises(EnrollError, match="grid g1"):
        await enroll(store, "http://town.test", "CODE-9999", "tab", transport=server.transport())
    assert store.meta_get("grid") == "g1" and store.meta_get("token") is None


async def test_an_address_that_is_not_a_server_is_refused() -> None:
    with pytest.raises(EnrollError, match="not a server address"):
        await enroll(
            MemStore(), "town.test", "CODE", "tab", transport=httpx.MockTransport(lambda r: httpx.Response(500))
        )
