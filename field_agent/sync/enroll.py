"""Enrolment: trade a one-time code for device credentials, pinning the server's certificate when the code names it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import ssl
from collections.abc import Awaitable, Callable

import httpx

from field_agent.protocol.wire import EnrollResponse
from field_agent.store import Store
from field_agent.sync.client import SyncClient
from field_agent.sync.errors import CertificateMismatch, EnrollError, Offline, SyncError

FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")
FetchCertificate = Callable[[str, int], Awaitable[bytes]]


def parse_code(code: str) -> tuple[str, str | None]:
    """Split ``SECRET`` or ``SECRET:FINGERPRINT`` (64 hex digits, SHA-256 of the certificate's DER)."""
    code = code.strip()
    secret, _, fingerprint = code.partition(":")
    if not secret:
        raise EnrollError("the enrolment code is empty: copy it exactly as the town office gave it", code="code_empty")
    if not fingerprint:
        return secret, None
    fingerprint = fingerprint.replace(":", "").lower()
    if not FINGERPRINT_RE.match(fingerprint):
        raise EnrollError(
            "the part of the code after ':' must be the server certificate's fingerprint (64 hex digits): "
            "check the code for typos",
            code="code_fingerprint",
        )
    return secret, fingerprint


def certificate_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


async def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> bytes:
    """The DER certificate a TLS server presents, fetched without trusting it (it is checked by fingerprint)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout
        )
    except (OSError, TimeoutError, ssl.SSLError) as error:
        raise Offline(f"cannot reach the town server at {host}:{port} over TLS ({type(error).__name__})") from error
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise CertificateMismatch(f"the server at {host}:{port} presented no certificate")
    return der


async def enroll(
    store: Store,
    url: str,
    code: str,
    device_name: str = "tablet",
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    fetch_cert: FetchCertificate = fetch_certificate,
) -> EnrollResponse:
    """Enrol ``store``'s device with the server at ``url``; keep the credentials inside the encrypted store."""
    secret, fingerprint = parse_code(code)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise EnrollError(
            f"{url!r} is not a server address: use e.g. https://town.example:8443", code="server_address"
        ) from error
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise EnrollError(f"{url!r} is not a server address: use e.g. https://town.example:8443", code="server_address")
    pinned: str | None = None
    if fingerprint is not None:
        if parsed.scheme != "https":
            raise EnrollError(
                "this code pins a TLS certificate, so the server address must start with https://", code="https_needed"
            )
        der = await fetch_cert(parsed.host, parsed.port or 443)
        actual = certificate_fingerprint(der)
        if actual != fingerprint:
            raise CertificateMismatch(
                f"the server at {parsed.host} presented certificate {actual[:16]}…, not the {fingerprint[:16]}… "
                "named by the code: check the address, or ask the town office (someone may be intercepting)"
            )
        pinned = ssl.DER_cert_to_PEM_cert(der)

    node_id = await asyncio.to_thread(lambda: store.node_id)
    async with SyncClient(url, transport=transport, pinned_cert=pinned) as client:
        try:
            answer = await client.enroll(
                code if fingerprint is None else f"{secret}:{fingerprint}", node_id, device_name
            )
        except SyncError as error:
            if error.kind == "server" and error.code is not None:
                raise EnrollError(f"the server refused the code: {error.message}", code=error.code) from error
            raise
    await asyncio.to_thread(_save_credentials, store, str(parsed).rstrip("/"), pinned, answer)
    return answer


def _save_credentials(store: Store, url: str, pinned: str | None, answer: EnrollResponse) -> None:
    current_grid = store.meta_get("grid")
    if current_grid and current_grid != answer.grid and _has_records(store):
        raise EnrollError(
            f"this store holds records of grid {current_grid}, but the code is for grid {answer.grid}: "
            "create a new store for the other grid (field-agent --store DIR init) and enrol that one",
            code="other_grid",
        )
    if store.meta_get("server_url") != url or current_grid != answer.grid:
        store.meta_set("cursor", 0)
    store.meta_set("server_url", url)
    store.meta_set("pinned_cert", pinned)
    store.meta_set("device_id", answer.device_id)
    store.meta_set("grid", answer.grid)
    store.meta_set("grid_name", answer.grid_name)
    store.meta_set("town", answer.town)
    store.meta_set("worker", answer.worker)
    store.meta_set("role", answer.role)
    store.meta_set("until", answer.until)  # a temporary member's last day (None: the grid's own staff)
    store.meta_set("token", answer.token)


def _has_records(store: Store) -> bool:
    return store.pending_count() > 0 or bool(store.meta_get("cursor", 0))
