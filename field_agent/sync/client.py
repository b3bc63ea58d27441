"""HTTP client of the sync protocol over an injectable httpx transport, mapping every failure to SyncError."""

from __future__ import annotations

import functools
import ssl
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import zstandard
from pydantic import TypeAdapter, ValidationError

from field_agent.protocol.wire import (
    API_PREFIX,
    COMPRESS_MIN_BYTES,
    CONTENT_ENCODINGS,
    PULL_RESPONSE,
    PUSH_RESPONSE,
    WIRE_ENVELOPE,
    DeviceInfo,
    EnrollResponse,
)
from field_agent.sync.backoff import parse_retry_after
from field_agent.sync.errors import (
    AuthRefused,
    CertificateMismatch,
    DeviceExpired,
    Offline,
    ProtocolError,
    RateLimited,
    ServerError,
    SyncError,
)

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
# what a server that cannot read a compressed body answers it: 415 (this protocol's servers), or, from a server
# older than compression, a 400 saying the body is not JSON
_UNREAD_COMPRESSED = {"unsupported_encoding", "bad_encoding", "malformed_json", "content_type"}

AUTH_MESSAGES = {
    "device_revoked": "the town office has revoked this device; ask your grid leader for a new enrolment code",
    "token_invalid": "the server does not recognise this device; enrol it again with a new code",
}


def pinned_context(pem: str) -> ssl.SSLContext:
    """A TLS context that trusts exactly the pinned certificate.

    The pin is stronger than a hostname check, so the host name is not checked: the tablet may reach the town
    server by a LAN address that is not in the certificate.
    """
    try:
        context = ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as error:
        raise CertificateMismatch(
            "the server certificate pinned in this store is unreadable: enrol the device again"
        ) from error
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@functools.cache
def _system_context() -> ssl.SSLContext:
    """The system's trusted CAs, loaded once per process."""
    return httpx.create_ssl_context()


def _is_certificate_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SyncClient:
    """One session with the town server; use as ``async with SyncClient(...) as client``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        pinned_cert: str | None = None,
        timeout: float = 30.0,
        compress: bool = True,
        skip_own: bool = True,
    ) -> None:
        """``compress``: ask for compressed answers and compress request bodies of ``COMPRESS_MIN_BYTES`` or more
        (zstd; sent plain again, for the rest of the session, to a server that cannot read them). ``skip_own``:
        tell the server, with each push, the pull cursor this device has reached, so that later pulls leave out the
        records this push wrote that the device already holds as the server does (``docs/SYNC.md``). Both off:
        the wire as before them (the benchmark's baseline)."""
        self.base_url = base_url.rstrip("/")
        self.compress_requests = compress
        self.skip_own = skip_own
        self.town_settings: dict[str, Any] = {}  # what the last page of a pull said (tablet_retention_days)
        headers = dict(JSON_HEADERS)
        headers["accept-encoding"] = ", ".join(CONTENT_ENCODINGS) if compress else "identity"
        if token:
            headers["authorization"] = f"Bearer {token}"
        verify: ssl.SSLContext | bool
        if pinned_cert:
            verify = pinned_context(pinned_cert)
        elif self.base_url.startswith("https:"):
            verify = _system_context()
        else:
            verify = False  # plain http: no TLS, and no need to load the CA bundle (tens of ms) for nothing
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
        )

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def enroll(self, code: str, node_id: str, device_name: str) -> EnrollResponse:
        body = await self._request(
            "POST", "/enroll", body={"code": code, "node_id": node_id, "device_name": device_name}
        )
        return _model(EnrollResponse, body)

    async def me(self) -> DeviceInfo:
        return _model(DeviceInfo, await self._request("GET", "/me"))

    async def push(
        self,
        batch_id: str,
        changes: list[dict[str, Any]],
        *,
        encoded: bytes | None = None,
        cursor: int | None = None,
    ) -> list[dict[str, Any]]:
        """Send one batch; return one result per change, in order, as ``wire.ChangeResult`` dicts (every key present).

        ``encoded`` is the request body already serialised (by a worker thread) from the same batch id and changes.
        ``cursor``: the pull cursor this device has reached and saved (see ``skip_own``).
        """
        content = encoded if encoded is not None else orjson.dumps({"batch_id": batch_id, "changes": changes})
        params = {"cursor": cursor} if cursor is not None and self.skip_own else None
        answered, results = push_results(await self._request("POST", "/push", content=content, params=params))
        if answered != batch_id:
            raise ProtocolError(f"the server answered batch {answered} when {batch_id} was sent")
        if len(results) != len(changes):
            raise ProtocolError(f"the server answered {len(results)} results for {len(changes)} changes in one batch")
        for change, result in zip(changes, results, strict=True):
            if result["record"] != change["record"]:
                raise ProtocolError(f"the server's results are out of order (record {result['record']})")
        return results

    async def pull(self, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        records, next_cursor, more, _purged = await self.pull_page(cursor, limit)
        return records, next_cursor, more

    async def pull_page(
        self, cursor: int, limit: int, *, skip_own: bool | None = None
    ) -> tuple[list[dict[str, Any]], int, bool, list[dict[str, Any]]]:
        """One pull page: records, next cursor, more, and the erasure markers (``wire.PurgeMarker``) in it.

        ``skip_own`` (default: the client's ``skip_own``): leave out what this device pushed and holds as stored."""
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if self.skip_own if skip_own is None else skip_own:
            params["skip_own"] = "true"
        body = await self._request("GET", "/pull", params=params)
        page = _validated(PULL_RESPONSE, body, "PullResponse")
        records, next_cursor, more = page["records"], page["next_cursor"], page["more"]
        if next_cursor < cursor or (more and next_cursor == cursor):
            raise ProtocolError(f"the server's pull cursor did not advance ({cursor} -> {next_cursor})")
        if "tablet_retention_days" in page:  # the town's window for tablets (last page; absent from older servers)
            self.town_settings["tablet_retention_days"] = page["tablet_retention_days"]
        if "town_config" in page:  # the town configuration's versions (last page, once the town set one)
            self.town_settings["town_config"] = page["town_config"]
        return records, next_cursor, more, page["purged"]

    async def get_record(self, record_id: str) -> dict[str, Any] | None:
        """One record of this device's grid as the server stores it (``wire.Envelope``), or None if the server has
        none of that id in this grid."""
        try:
            body = await self._request("GET", f"/records/{quote(record_id, safe='')}")
        except ServerError as error:
            if error.status == 404:
                return None
            raise
        envelope: dict[str, Any] = _validated(WIRE_ENVELOPE, body, "Envelope")
        return envelope

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> Any:
        if body is not None:
            content = orjson.dumps(body)
        response = await self._send(method, path, content, params)
        if response.status_code >= 400:
            raise _map_status(response)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise ProtocolError(f"the server's answer to {path} is not JSON") from error

    async def _send(
        self, method: str, path: str, content: bytes | None, params: dict[str, Any] | None
    ) -> httpx.Response:
        """One request, its body compressed when worth it; sent once more plain if the server could not read it."""
        compressed = self.compress_requests and content is not None and len(content) >= COMPRESS_MIN_BYTES
        try:
            if compressed:
                assert content is not None
                response = await self._http.request(
                    method,
                    API_PREFIX + path,
                    content=zstandard.ZstdCompressor(level=3).compress(content),
                    params=params,
                    headers={"content-encoding": "zstd"},
                )
                if response.status_code not in (400, 415) or _error_detail(response)[0] not in _UNREAD_COMPRESSED:
                    return response
                self.compress_requests = False  # nothing was applied: send it plain, and so on from now
            return await self._http.request(method, API_PREFIX + path, content=content, params=params)
        except httpx.HTTPError as error:
            raise _map_transport_error(error, self.base_url) from error


def _map_transport_error(error: httpx.HTTPError, base_url: str) -> SyncError:
    if _is_certificate_failure(error):
        return CertificateMismatch(
            f"the server at {base_url} presented a certificate that is not the pinned one: do not sync; "
            "tell the town office (the server may have been replaced or someone is intercepting)"
        )
    if isinstance(error, httpx.TimeoutException):
        return Offline(f"the town server at {base_url} did not answer in time; will retry")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProtocolError(f"the server address {base_url} is not a valid http(s) URL")
    if isinstance(error, httpx.TransportError):
        return Offline(f"cannot reach the town server at {base_url} ({type(error).__name__}); will retry")
    return ProtocolError(f"unexpected HTTP failure talking to {base_url}: {type(error).__name__}")


def _error_detail(response: httpx.Response) -> tuple[str | None, str]:
    try:
        error = orjson.loads(response.content)["error"]
        return str(error["code"]), str(error["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None, response.reason_phrase or f"HTTP {response.status_code}"


def _map_status(response: httpx.Response) -> SyncError:
    status = response.status_code
    code, message = _error_detail(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 401 and code == "device_expired":  # the server's words carry the last day, in Chinese and English
        return DeviceExpired(message, code=code)
    if status == 401:
        return AuthRefused(AUTH_MESSAGES.get(code or "", f"the server refused this device: {message}"), code=code)
    if status == 403:
        return AuthRefused(f"the server does not allow this device to do that: {message}", code=code)
    if status == 429:
        wait = f"; try again in {retry_after:.0f} s" if retry_after is not None else ""
        return RateLimited(f"the server is busy or limiting requests{wait}", retry_after=retry_after, code=code)
    if status >= 500:
        return ServerError(
            f"the town server failed ({status}: {message}); will retry",
            status=status,
            code=code,
            retry_after=retry_after,
        )
    return ServerError(f"the server refused the request ({status}: {message})", status=status, code=code)


def _model(model: Any, body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ProtocolError(
            f"the server's answer is not a valid {model.__name__}: {error.errors()[0]['msg']}"
        ) from error


def push_results(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """The batch id and results (``wire.ChangeResult`` dicts, every key present) of a push answer."""
    response = _validated(PUSH_RESPONSE, body, "PushResponse")
    return response["batch_id"], response["results"]


def _validated(adapter: TypeAdapter[Any], body: Any, name: str) -> Any:
    """An answer (read from JSON) checked against the wire format; strict, since a server sends exact types."""
    try:
        return adapter.validate_python(body, strict=True)
    except ValidationError as error:
        problem = error.errors(include_url=False, include_context=False, include_input=False)[0]
        where = ".".join(str(part)[:80] for part in problem["loc"]) or "answer"
        raise ProtocolError(f"the server's answer is not a valid {name}: {where}: {problem['msg']}") from error
