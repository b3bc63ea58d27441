"""The HTTP client maps every transport and HTTP failure to one SyncError a worker can act on."""

from __future__ import annotations

import httpx
import orjson
import pytest

from field_agent.sync.backoff import RetryPolicy, parse_retry_after, with_retries
from field_agent.sync.client import SyncClient
from field_agent.sync.errors import AuthRefused, Offline, ProtocolError, RateLimited, ServerError, SyncError


def client_answering(status: int, body: object = None, headers: dict[str, str] | None = None) -> SyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.Response(status, content=content, headers=headers)

    return SyncClient("http://town.test", token="t", transport=httpx.MockTransport(handler))


def client_raising(error: type[httpx.TransportError]) -> SyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return SyncClient("http://town.test", token="t", transport=httpx.MockTransport(handler))


def error_body(code: str, message: str = "m") -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "text"),
    [
        (401, error_body("device_revoked"), None, AuthRefused, "revoked this device"),
        (401, error_body("token_invalid"), None, AuthRefused, "enrol it again"),
        (403, error_body("forbidden", "not your grid"), None, AuthRefused, "not your grid"),
        (429, error_body("rate_limited"), {"Retry-After": "12"}, RateLimited, "try again in 12 s"),
        (503, error_body("busy", "overloaded"), None, ServerError, "will retry"),
        (422, error_body("invalid", "bad cursor"), None, ServerError, "bad cursor"),
        (500, b"<html>oops</html>", None, ServerError, "500"),
    ],
)
async def test_http_errors_become_sync_errors(status, body, headers, kind, text) -> None:  # type: ignore[no-untyped-def]
    async with client_answering(status, body, headers) as client:
        with pytest.raises(kind, match=text) as caught:
            await client.pull(0, 10)
    assert caught.value.retryable == (status in (429, 503, 500))


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout])
async def test_transport_failures_are_offline(error: type[httpx.TransportError]) -> None:
    async with client_raising(error) as client:
        with pytest.raises(Offline, match="town server"):
            await client.push("batch-0001", [])


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        {"records": "x", "next_cursor": 1, "more": False},
        {"records": [{"id": "r"}], "next_cursor": 1, "more": False},
        {"records": [], "next_cursor": 5, "more": True, "extra": 1} | {"next_cursor": 0},
    ],
)
async def test_a_malformed_pull_answer_is_a_protocol_error(body: object) -> None:
    async with client_answering(200, body) as client:
        with pytest.raises(ProtocolError):
            await client.pull(3, 10)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Mon, 30 Nov 2026 09:00:30 GMT", now=1_796_029_200.0) == pytest.approx(30)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_is_jittered_exponential_capped_and_respects_retry_after() -> None:
    import random

    policy = RetryPolicy(base_s=1, cap_s=8)
    rng = random.Random(1)
    for attempt in range(8):
        assert 0 <= policy.delay(attempt, rng=rng) <= min(8, 2**attempt)
    assert policy.delay(0, retry_after=30, rng=rng) == 30
    delays = {round(policy.delay(3, rng=rng), 6) for _ in range(20)}
    assert len(delays) > 10  # jittered, not a fixed schedule


async def test_retries_stop_at_the_budget_and_never_retry_a_final_error() -> None:
    calls = 0
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def offline() -> None:
        nonlocal calls
        calls += 1
        raise Offline("down")

    with pytest.raises(Offline):
        await with_retries(offline, RetryPolicy(attempts=5, base_s=1, cap_s=1), sleep=sleep)
    assert calls == 5 and len(slept) == 4

    async def refused() -> None:
        raise AuthRefused("revoked")

    with pytest.raises(SyncError):
        await with_retries(refused, RetryPolicy(attempts=5), sleep=sleep)
    assert len(slept) == 4


CHANGE = {"record": "r1", "kind": "household", "grid": "g1"}
RESULT = {"record": "r1", "status": "applied", "code": None, "reason": None, "conflicts": []}


@pytest.mark.parametrize(
    "answer",
    [
        {"batch_id": "batch-0001", "results": [RESULT], "replayed": False},
        {"batch_id": "batch-0001", "results": [{"record": "r1", "status": "applied"}]},  # defaults filled in
    ],
)
async def test_a_push_answer_gives_one_plain_result_per_change(answer: dict[str, object]) -> None:
    async with client_answering(200, answer) as client:
        assert await client.push("batch-0001", [CHANGE]) == [RESULT]


@pytest.mark.parametrize(
    "answer",
    [
        {"batch_id": "batch-0001", "results": [{**RESULT, "status": "maybe"}]},
        {"batch_id": "batch-0001", "results": [{**RESULT, "status": ["applied"]}]},
        {"batch_id": "batch-0001", "results": [{**RESULT, "conflicts": "c1"}]},
        {"batch_id": "batch-0001", "results": "all fine"},
        {"batch_id": "batch-0002", "results": [RESULT]},
        {"batch_id": "batch-0001", "results": [RESULT, RESULT]},
        {"batch_id": "batch-0001", "results": [{**RESULT, "record": "r2"}]},
    ],
)
async def test_a_malformed_push_answer_is_a_protocol_error(answer: dict[str, object]) -> None:
    async with client_answering(200, answer) as client:
        with pytest.raises(ProtocolError):
            await client.push("batch-0001", [CHANGE])


def _changes(count: int) -> list[dict[str, object]]:
    return [
        {"record": f"r{n}", "kind": "household", "grid": "g", "fields": {"notes": {"value": f"第{n}户", "stamp": "s"}}}
        for n in range(count)
    ]


def _answer(request: httpx.Request, body: dict[str, object]) -> httpx.Response:
    results = [{"record": change["record"], "status": "applied"} for change in body["changes"]]  # type: ignore[union-attr]
    return httpx.Response(200, content=orjson.dumps({"batch_id": body["batch_id"], "results": results}))


async def test_a_large_push_goes_zstd_compressed_with_the_cursor_and_a_small_one_plain() -> None:
    import zstandard

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content = request.content
        if request.headers.get("content-encoding") == "zstd":
            content = zstandard.ZstdDecompressor().stream_reader(content).read()
        return _answer(request, orjson.loads(content))

    async with SyncClient("http://town.test", token="t", transport=httpx.MockTransport(handler)) as client:
        await client.push("batch-0001", _changes(50), cursor=41)
        await client.push("batch-0002", _changes(1), cursor=41)
    large, small = seen
    assert large.headers["content-encoding"] == "zstd" and large.url.params["cursor"] == "41"
    assert len(large.content) < len(orjson.dumps({"batch_id": "batch-0001", "changes": _changes(50)})) // 3
    assert "content-encoding" not in small.headers
    assert large.headers["accept-encoding"] == "zstd, gzip"


async def test_a_server_that_cannot_read_compressed_bodies_gets_them_plain_from_then_on() -> None:
    seen: list[httpx.Request] = []

    def older_server(request: httpx.Request) -> httpx.Response:  # a server from before compression
        seen.append(request)
        try:
            body = orjson.loads(request.content)
        except orjson.JSONDecodeError:
            return httpx.Response(400, content=orjson.dumps(error_body("malformed_json", "not JSON")))
        return _answer(request, body)

    async with SyncClient("http://town.test", token="t", transport=httpx.MockTransport(older_server)) as client:
        assert len(await client.push("batch-0001", _changes(50))) == 50
        assert len(await client.push("batch-0002", _changes(50))) == 50
    assert [request.headers.get("content-encoding") for request in seen] == ["zstd", None, None]


async def test_without_compression_the_client_asks_for_plain_answers_and_sends_no_cursor() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request, orjson.loads(request.content))

    transport = httpx.MockTransport(handler)
    async with SyncClient("http://town.test", token="t", transport=transport, compress=False, skip_own=False) as client:
        await client.push("batch-0001", _changes(50), cursor=41)
    assert seen[0].headers["accept-encoding"] == "identity"
    assert "content-encoding" not in seen[0].headers and "cursor" not in seen[0].url.params
