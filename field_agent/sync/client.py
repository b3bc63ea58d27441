"""HTTP client of the sync protocol over an injectable httpx transport, mapping every failure to SyncError."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx
import orjson
from pydantic import ValidationError

from field_agent.protocol.wire import API_PREFIX, DeviceInfo, EnrollResponse, PushResponse
from field_agent.sync.backoff import parse_retry_after
from field_agent.sync.errors import (
    AuthRefused,
    CertificateMismatch,
    Offline,
    ProtocolError,
    RateLimited,
    ServerError,
    SyncError,
)

ENVELOPE_KEYS = frozenset(("id", "kind", "grid", "fields", "stamps", "sets", "conflicts"))
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}

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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = dict(JSON_HEADERS)
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
        self, batch_id: str, changes: list[dict[str, Any]], *, encoded: bytes | None = None
    ) -> list[dict[str, Any]]:
        """Send one batch; return one result per change, in order, as ``ChangeResult.model_dump()`` dicts.

        ``encoded`` is the request body already serialised (by a worker thread) from the same batch id and changes.
        """
        content = encoded if encoded is not None else orjson.dumps({"batch_id": batch_id, "changes": changes})
        body = await self._request("POST", "/push", content=content)
        answered, results = push_results(body)
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

    async def pull_page(self, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int, bool, list[dict[str, Any]]]:
        """One pull page: records, next cursor, more, and the erasure markers (``protocol.PurgeMarker``) in it."""
        body = await self._request("GET", "/pull", params={"cursor": cursor, "limit": limit})
        if not isinstance(body, dict):
            raise ProtocolError("the server's pull answer is not a JSON object")
        records, next_cursor, more = body.get("records"), body.get("next_cursor"), body.get("more")
        if not isinstance(records, list) or type(next_cursor) is not int or type(more) is not bool:
            raise ProtocolError("the server's pull answer lacks records, next_cursor or more")
        for record in records:
            _check_envelope(record)
        if next_cursor < cursor or (more and next_cursor == cursor):
            raise ProtocolError(f"the server's pull cursor did not advance ({cursor} -> {next_cursor})")
        purged = body.get("purged", [])
        if not isinstance(purged, list) or not all(_is_marker(marker) for marker in purged):
            raise ProtocolError("the server sent a malformed erasure marker")
        return records, next_cursor, more, purged

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
        try:
            response = await self._http.request(method, API_PREFIX + path, content=content, params=params)
        except httpx.HTTPError as error:
            raise _map_transport_error(error, self.base_url) from error
        if response.status_code >= 400:
            raise _map_status(response)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise ProtocolError(f"the server's answer to {path} is not JSON") from error


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


_RESPONSE_KEYS = frozenset(("batch_id", "results", "replayed"))
_RESULT_KEYS = frozenset(("record", "status", "code", "reason", "conflicts"))
_STATUSES = frozenset(("applied", "conflict", "refused"))


def push_results(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """The batch id and results of a push answer; a plainly well-formed answer skips building pydantic models."""
    if (
        type(body) is dict
        and body.keys() <= _RESPONSE_KEYS
        and type(body.get("batch_id")) is str
        and type(body.get("replayed", False)) is bool
    ):
        results = body.get("results")
        if type(results) is list and all(_plain_result(entry) for entry in results):
            return body["batch_id"], results
    response = _model(PushResponse, body)
    return response.batch_id, [entry.model_dump() for entry in response.results]


def _plain_result(entry: Any) -> bool:
    return (
        type(entry) is dict
        and entry.keys() == _RESULT_KEYS
        and type(entry["record"]) is str
        and type(entry["status"]) is str
        and entry["status"] in _STATUSES
        and (entry["code"] is None or type(entry["code"]) is str)
        and (entry["reason"] is None or type(entry["reason"]) is str)
        and type(entry["conflicts"]) is list
        and all(type(cid) is str for cid in entry["conflicts"])
    )


def _is_marker(marker: Any) -> bool:
    return (
        type(marker) is dict
        and type(marker.get("id")) is str
        and type(marker.get("kind")) is str
        and (marker.get("fields") is None or _str_map(marker["fields"]))
        and type(marker.get("purged_ms")) is int
    )


def _str_map(value: Any) -> bool:
    return type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())


def _check_envelope(record: Any) -> None:
    if type(record) is not dict or record.keys() != ENVELOPE_KEYS:
        raise ProtocolError("the server sent a record that is not a record envelope")
    if not (type(record["id"]) is str and type(record["kind"]) is str and type(record["grid"]) is str):
        raise ProtocolError("the server sent a record without id, kind or grid")
    for name in ("fields", "stamps", "sets", "conflicts"):
        if type(record[name]) is not dict:
            raise ProtocolError(f"the server sent record {record['id']} with a malformed {name!r}")
