"""The town server's HTTP API (``/v1/``): enrol, who am I, push, pull; errors always as JSON ErrorBody."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Annotated, Any

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from field_agent.domain.errors import ConfigError
from field_agent.domain.hlc import wall_ms
from field_agent.domain.rights import is_temporary
from field_agent.protocol.wire import (
    API_PREFIX,
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    PROTOCOL_VERSION,
    PUSH_REQUEST,
    DeviceInfo,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    PullResponse,
    PushResponse,
)
from field_agent.protocol.wire import Envelope as WireEnvelope
from server_stub import __version__
from server_stub.access_log import AccessLog
from server_stub.compression import ResponseCompression
from server_stub.config import Settings
from server_stub.db.base import Database
from server_stub.enrolment import authenticate, enroll
from server_stub.errors import RequestInvalid, ServerError
from server_stub.headers import SecurityHeaders
from server_stub.limits import BodyLimit, RateLimiter
from server_stub.office import router as office_router
from server_stub.office_campaigns import router as office_campaigns_router
from server_stub.pull_scope import may_see, scoped_page
from server_stub.push import push
from server_stub.push_body import parse_push
from server_stub.town_config import for_tablets, in_force
from server_stub.town_time import town_today

RECORD_ID_PATH = Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def known_query(*names: str) -> Any:
    """A route's guard against query parameters it does not read: a misspelt ``curser=`` is a 422 that names it,
    not a silent pull from the start."""
    allowed = frozenset(names)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise RequestInvalid(
                f"unknown query parameter {unknown[0][:40]!r}: this route reads only {', '.join(sorted(allowed))}",
                code="unknown_parameter",
            )

    return Depends(check)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody, "description": "error with a stable code"} for status in statuses}


class Health(BaseModel):
    status: str
    protocol: int
    version: str


bearer = HTTPBearer(auto_error=False, description="the device token received at enrolment")


def current_device(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> dict[str, Any]:
    """The device of the request's bearer token (401 otherwise); notes when it was last seen."""
    state = request.app.state
    device = authenticate(state.db, request.headers.get("authorization"), state.today())
    note_seen(state, device)
    return device


def note_seen(state: Any, device: dict[str, Any]) -> None:
    """Record when a device was last seen, at most once a minute per device (it costs a write)."""
    now = wall_ms()
    if now - state.last_touched.get(device["id"], 0) >= state.settings.last_seen_every_ms:
        state.last_touched[device["id"]] = now
        state.db.touch_device(device["id"], now)


def note_synced(state: Any, device: dict[str, Any]) -> None:
    """Record that a device received the last page of its grid: a pull is a sync, also with nothing to push
    (``last_sync`` on the office overview and ``device list``). At most once a minute per device, like
    ``note_seen``; between two such writes the device is noted as seen."""
    now = wall_ms()
    if now - state.last_synced.get(device["id"], 0) < state.settings.last_seen_every_ms:
        note_seen(state, device)
        return
    state.last_synced[device["id"]] = state.last_touched[device["id"]] = now
    state.db.note_synced(device["id"], now)


Device = Annotated[dict[str, Any], Depends(current_device)]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody.model_validate({"error": {"code": code, "message": message}})
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def create_app(db: Database, settings: Settings | None = None) -> FastAPI:
    """The ASGI app over one database (the caller owns and closes it)."""
    settings = settings or Settings()
    limiter = RateLimiter(db, settings.enroll_attempts, settings.enroll_window_s)  # in the database: all workers
    app = FastAPI(
        title="Field Agent town server",
        version=__version__,
        description="Enrolment, device-scoped push/pull with server-side merge for the grid workers' tablets.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.db = db
    app.state.settings = settings
    with contextlib.suppress(ConfigError):  # the town's time zone from its configuration (town_config.py)
        in_force(db)
    # per process, like the push thread pool: with N worker processes a device's last-seen time is written at
    # most N times per ``last_seen_every_ms`` instead of once, which is harmless
    app.state.last_touched = {}
    app.state.last_synced = {}
    app.state.push_limiter = None  # made on first use, inside the server's event loop
    app.state.answers_forgotten_ms = 0
    app.state.today = town_today  # the town's date: temporary members' devices end after their last day
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ResponseCompression)  # outside BodyLimit: the sizes it guards are of plain bodies
    app.add_middleware(SecurityHeaders)  # outside BodyLimit: its 413 answers carry the headers too
    if settings.access_log:
        app.add_middleware(AccessLog)
    _install_error_handlers(app, db.driver_errors)

    router = APIRouter(prefix=API_PREFIX)

    @router.get("/health", response_model=Health, tags=["server"])
    def health() -> Health:
        """Whether the server is up, and which protocol it speaks."""
        return Health(status="ok", protocol=PROTOCOL_VERSION, version=__version__)

    @router.post(
        "/enroll",
        response_model=EnrollResponse,
        response_model_exclude_none=True,
        tags=["devices"],
        responses=_errors(400, 401, 409, 410, 413, 415, 422, 429, 503),
    )
    def enroll_device(body: EnrollRequest, request: Request) -> EnrollResponse:
        """Exchange a one-time enrolment code for this tablet's device id and token."""
        limiter.hit(request.client.host if request.client else "unknown")
        return enroll(db, body, today=app.state.today())

    @router.get(
        "/me",
        response_model=DeviceInfo,
        response_model_exclude_none=True,
        tags=["devices"],
        responses=_errors(401, 503),
    )
    def me(device: Device) -> DeviceInfo:
        """The device this token belongs to, and the server's clock."""
        return DeviceInfo(
            device_id=device["id"],
            grid=device["grid"],
            worker=device["worker"],
            role=device["role"],
            server_time_ms=wall_ms(),
            until=device["ends_on"],
        )

    @router.post(
        "/push",
        response_model=PushResponse,
        tags=["sync"],
        dependencies=[known_query("cursor")],
        responses=_errors(400, 401, 413, 415, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
            }
        },
    )
    async def push_changes(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        cursor: Annotated[
            int | None,
            Query(
                ge=0,
                le=2**62,
                description="the pull cursor the device has reached: its later pulls then leave out the records "
                "this push wrote that it already holds as stored",
            ),
        ] = None,
    ) -> Response:
        """Apply a batch of changes (a PushRequest); a repeated batch id is answered from the stored result."""
        body = await request.body()
        if app.state.push_limiter is None:
            app.state.push_limiter = anyio.CapacityLimiter(settings.push_threads)
        authorization = request.headers.get("authorization")
        return await anyio.to_thread.run_sync(
            _push_request, app.state, authorization, body, cursor, limiter=app.state.push_limiter
        )

    @router.get(
        "/pull",
        response_model=PullResponse,
        tags=["sync"],
        responses=_errors(401, 422, 503),
        dependencies=[known_query("cursor", "limit", "skip_own")],
    )
    async def pull(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        cursor: Annotated[int, Query(ge=0, le=2**62, description="the last sequence number received")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
        # described in the route's text, not listed as a parameter: it only saves bytes (a server that does not know
        # it ignores it and sends everything), and the schema fuzz test's negative cases stay those of the route as
        # every server version reads it
        skip_own: Annotated[bool, Query(include_in_schema=False)] = False,
    ) -> Response:
        """Records of this device's grid changed after ``cursor``, in sequence order.

        With ``skip_own=true`` the versions this device pushed and holds as stored (see the push's ``cursor``) are
        left out, ``next_cursor`` moving past them."""
        authorization = request.headers.get("authorization")
        return await anyio.to_thread.run_sync(_pull_page, app.state, authorization, cursor, limit, skip_own)

    @router.get(
        "/records/{record_id}",
        response_model=WireEnvelope,
        tags=["sync"],
        responses=_errors(401, 404, 422, 503),
        dependencies=[known_query()],
    )
    def get_record(
        device: Device, record_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")]
    ) -> Response:
        """One record of this device's grid, as stored (an old record the tablet no longer keeps). A record of
        another grid, or one a temporary member's device does not receive (``pull_scope``), is answered as a
        missing one."""
        envelope = db.get_record(record_id)
        if envelope is None or envelope.get("grid") != device["grid"] or not may_see(device, envelope):
            return error_response(404, "not_found", "no such record in this grid")
        return Response(orjson.dumps(envelope), media_type="application/json")

    app.include_router(router)
    app.include_router(office_router, responses=_errors(401))
    app.include_router(office_campaigns_router, responses=_errors(401))
    _document_push_body(app)
    return app


def _push_request(state: Any, authorization: str | None, body: bytes, cursor: int | None) -> Response:
    """Authenticate, check the body (``push_body.parse_push``), apply it, answer in JSON: all in one worker thread.

    A push that commits records the device as seen (``mark_synced``) in its own transaction; only a refused
    request costs a separate write.
    """
    device = authenticate(state.db, authorization, state.today())
    try:
        batch_id, changes, coerced = parse_push(body, state.settings)
    except Exception:
        note_seen(state, device)
        raise
    forget_old_answers(state)
    answer = push(state.db, device, batch_id, changes, state.settings, check_encodable=coerced, cursor=cursor)
    return Response(answer, media_type="application/json")


def forget_old_answers(state: Any) -> None:
    """Delete stored push answers older than ``keep_answers_ms``, at most once per ``forget_answers_every_ms``
    per worker process (so the table holds about a month of batches, not every batch ever sent)."""
    now = wall_ms()
    if now - state.answers_forgotten_ms < state.settings.forget_answers_every_ms:
        return
    state.answers_forgotten_ms = now
    with state.db.transaction() as tx:
        tx.forget_batches(now - state.settings.keep_answers_ms)


def _pull_page(state: Any, authorization: str | None, cursor: int, limit: int, skip_own: bool) -> Response:
    """Authenticate and read one page of the device's grid, in one worker thread; the records are sent as stored.

    ``skip_own``: versions this device pushed and holds as stored (``push.push``) are left out, the cursor moving
    past them. Asked for by the tablet, which knows whether it still holds them (not while it refills a salvaged
    store). The last page (``more`` false) notes the device as synced."""
    device = authenticate(state.db, authorization, state.today())
    skip = device["id"] if skip_own else None
    if is_temporary(device["role"]):  # a temporary member's device: what its work needs (server_stub/pull_scope.py)
        rows = scoped_page(state.db, device, cursor, limit + 1, skip)
    else:
        rows = state.db.pull_page_with_purged(device["grid"], cursor, limit + 1, skip_device=skip)
    sent = 0
    for end, (_, text, marker) in enumerate(rows):
        if text is not None or marker is not None:
            sent += 1
            if sent > limit:
                rows = rows[:end]
                break
    more = sent > limit
    if more:
        note_seen(state, device)
    else:  # the device has everything of its grid now: a sync completed
        note_synced(state, device)
    next_cursor = rows[-1][0] if rows else cursor
    # erasure markers (server_stub/retention.py) ride in their own key, sent only when there are some, so a
    # tablet that does not know them reads the page as before
    purged = [marker for _, _, marker in rows if marker is not None]
    # the town's retention window for tablets rides on the last page only (one read of ``meta`` per sync)
    # and the town's configuration versions (server_stub/town_config.py), once the town has set one
    settings = b""
    if not more:
        days, versions = for_tablets(state.db)
        settings = b',"tablet_retention_days":' + orjson.dumps(days)
        if versions:
            settings += b',"town_config":' + orjson.dumps(versions)
    body = b'{"records":[%b],"next_cursor":%d,"more":%b%b%b}' % (
        b",".join(text for _, text, _ in rows if text is not None),
        next_cursor,
        b"true" if more else b"false",
        b',"purged":' + orjson.dumps(purged) if purged else b"",
        settings,
    )
    return Response(body, media_type="application/json")


def _document_push_body(app: FastAPI) -> None:
    """The push route reads its body itself (for speed); publish the PushRequest schema it expects."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        schema = PUSH_REQUEST.json_schema(ref_template="#/components/schemas/{model}")
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["PushRequest"] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI, driver_errors: tuple[type[Exception], ...]) -> None:
    @app.exception_handler(ServerError)
    async def server_error(_request: Request, error: ServerError) -> JSONResponse:
        headers = dict(error.headers)
        if error.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return error_response(error.status, error.code, error.message, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = list(error.errors())
        raw = error.body if isinstance(error.body, bytes | str) else None
        if raw is not None:
            try:
                orjson.loads(raw)
            except orjson.JSONDecodeError as decode_error:
                return error_response(400, "malformed_json", f"request body is not valid JSON: {decode_error}")
            return error_response(400, "content_type", "send the body as JSON with Content-Type: application/json")
        if any(problem.get("type") == "json_invalid" for problem in problems):
            first = next(problem for problem in problems if problem.get("type") == "json_invalid")
            detail = (first.get("ctx") or {}).get("error") or first.get("msg", "")
            return error_response(400, "malformed_json", f"request body is not valid JSON: {detail}".strip())
        parts = []
        for problem in problems[:3]:
            where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body") or "body"
            parts.append(f"{where}: {problem.get('msg', 'invalid')}")
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return error_response(422, "invalid_request", "; ".join(parts) + more)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable_json(error)
        if unreadable:
            return error_response(400, "malformed_json", f"request body is not valid JSON: {unreadable}")
        code = HTTP_CODES.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail), getattr(error, "headers", None))

    async def database_down(_request: Request, error: Exception) -> JSONResponse:
        return error_response(
            503,
            "database_unavailable",
            f"the server's database is not answering ({type(error).__name__}); nothing was applied: try again",
            {"Retry-After": "30"},
        )

    # the database's own driver errors (psycopg's only over PostgreSQL: a SQLite server never loads psycopg)
    handled: tuple[type[Exception], ...] = (sqlite3.Error, *driver_errors)
    for driver_error in dict.fromkeys(handled):
        app.add_exception_handler(driver_error, database_down)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _error: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "the server failed to handle this request; it was not applied")


def _unreadable_json(error: StarletteHTTPException) -> str | None:
    """Why FastAPI could not read a JSON body (its own 400 only says "error parsing the body"), or None."""
    if error.status_code != 400:
        return None
    if isinstance(error.__cause__, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(error.__cause__, RecursionError):
        return "it is nested too deeply"
    return None
