"""Wire format of the sync protocol (``/v1/``): one schema for the town server and the tablet.

JSON over HTTP. Push sends batches of per-record changes (see ``field_agent.domain.envelope``) under an
idempotency key; pull pages through records changed since a cursor (the server's sequence number).

The messages that carry records (push and pull, both ways) are TypedDicts, read with the TypeAdapters below: they
validate and return plain dicts (missing parts filled in with their defaults), which is what the merge rules, the
store and the server work on, with no model objects built and dumped again. The server reads a push body with
``PUSH_REQUEST`` (``server_stub.push_body``); the tablet checks the changes it is about to send with the same
definitions (``invalid_changes``) and the answers it receives with ``PUSH_RESPONSE`` and ``PULL_RESPONSE``
(``field_agent.sync.client``). Enrolment, ``/me`` and error bodies, which FastAPI reads and documents itself, stay
models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic reads only typing_extensions' TypedDict before Python 3.12

PROTOCOL_VERSION = 1
API_PREFIX = "/v1"
MAX_BATCH_CHANGES = 1000
MAX_PULL_LIMIT = 2000
DEFAULT_PULL_LIMIT = 500
MAX_NAME_LENGTH = 64
MAX_STRING_LENGTH = 4000
# compressed bodies, both ways: the encodings in order of preference (negotiated by Accept-Encoding and read by
# Content-Encoding) and the size below which a body is sent as it is (compressing it would save next to nothing)
CONTENT_ENCODINGS = ("zstd", "gzip")
COMPRESS_MIN_BYTES = 1024

Stamp = Annotated[str, StringConstraints(pattern=r"^\d{15}-\d{5}-[0-9a-f]{12}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")]
BatchId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
ConflictId = Annotated[str, StringConstraints(max_length=128)]
RecordKind = Literal[
    "grid",
    "household",
    "resident",
    "visit",
    "sampling_round",
    "sampling",
    "followup",
    "task",
    "config",
    "campaign",
    "campaign_result",
]

_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class FieldWrite(TypedDict):
    value: Any
    stamp: Stamp


@with_config(_CLOSED)
class SetWrite(TypedDict):
    present: bool
    stamp: Stamp


@with_config(_CLOSED)
class Change(TypedDict):
    """One record's change; validation fills in the parts a change may leave out (as empty objects)."""

    record: RecordId
    kind: RecordKind
    grid: RecordId
    fields: NotRequired[Annotated[dict[Name, FieldWrite], Field(default_factory=dict)]]
    sets: NotRequired[Annotated[dict[Name, dict[Name, SetWrite]], Field(default_factory=dict)]]
    base: NotRequired[Annotated[dict[Name, Stamp], Field(default_factory=dict)]]
    resolve: NotRequired[Annotated[dict[ConflictId, Stamp], Field(default_factory=dict)]]


@with_config(_CLOSED)
class PushRequest(TypedDict):
    batch_id: BatchId
    changes: Annotated[list[Change], Field(max_length=MAX_BATCH_CHANGES)]


@with_config(_CLOSED)
class ChangeResult(TypedDict):
    record: str
    status: Literal["applied", "conflict", "refused"]
    code: NotRequired[Annotated[str | None, Field(default=None)]]
    reason: NotRequired[Annotated[str | None, Field(default=None)]]
    conflicts: NotRequired[Annotated[list[str], Field(default_factory=list)]]


@with_config(_CLOSED)
class PushResponse(TypedDict):
    batch_id: str
    results: list[ChangeResult]
    replayed: NotRequired[Annotated[bool, Field(default=False)]]


@with_config(_CLOSED)
class Envelope(TypedDict):
    """A record as the server stores and sends it (``field_agent.domain.envelope``).

    Its parts are checked as objects of their kind, not copied or walked (``InstanceOf``): a pull page of 500
    records is read at the cost of the check it replaced, and the types inside are documented (JSON schema) and
    written only by the merge rules."""

    id: str
    kind: str
    grid: str
    fields: InstanceOf[dict[str, Any]]
    stamps: InstanceOf[dict[str, str]]
    sets: InstanceOf[dict[str, dict[str, list[Any]]]]
    conflicts: InstanceOf[dict[str, dict[str, Any]]]


@with_config(_CLOSED)
class PurgeMarker(TypedDict):
    """A record (``fields`` None) or some of its fields erased by the town's retention rule; never a value.

    ``fields`` maps each erased field to the server's stamp that cleared it; ``parent`` is the round (sampling),
    the campaign (campaign result) or resident (follow-up) the erased record belonged to."""

    id: str
    kind: str
    grid: str
    seq: int
    purged_ms: int
    parent: NotRequired[Annotated[str | None, Field(default=None)]]
    fields: NotRequired[Annotated[dict[str, str] | None, Field(default=None)]]


@with_config(_CLOSED)
class PullResponse(TypedDict):
    records: list[Envelope]
    next_cursor: int
    more: bool
    purged: NotRequired[Annotated[list[PurgeMarker], Field(default_factory=list)]]
    # the town's retention window for tablets, in days (None: keep everything); on the last page only
    tablet_retention_days: NotRequired[int | None]
    # the town configuration's versions in force and to come (field_agent/domain/town.py: TownConfig.to_dict);
    # on the last page only, once the town has set one; checked by the tablet with the domain's parser
    town_config: NotRequired[list[dict[str, Any]]]


# Typed as Any: the callers (merge rules, store, server) handle records and changes as dict[str, Any].
PUSH_REQUEST: TypeAdapter[Any] = TypeAdapter(PushRequest)
PUSH_RESPONSE: TypeAdapter[Any] = TypeAdapter(PushResponse)
PULL_RESPONSE: TypeAdapter[Any] = TypeAdapter(PullResponse)
WIRE_ENVELOPE: TypeAdapter[Any] = TypeAdapter(Envelope)
CHANGES: TypeAdapter[Any] = TypeAdapter(list[Change])


def invalid_changes(changes: list[Any]) -> dict[int, str]:
    """The changes the server would refuse as malformed, by index, with the reason.

    Checked here, with the schema the server reads a push with, so that one malformed change is kept aside instead
    of making the server refuse the whole batch. Strict: a change whose types are exact (as the store makes them)
    is one the server accepts; one that only the server's lax reading would coerce (``1`` for ``true``) is kept
    aside too. One validation of the whole batch; pydantic's error locations name the changes.
    """
    try:
        CHANGES.validate_python(changes, strict=True)
    except ValidationError as error:
        invalid: dict[int, str] = {}
        for problem in error.errors(include_url=False, include_context=False, include_input=False):
            loc = problem["loc"]
            if loc and type(loc[0]) is int and loc[0] not in invalid:
                invalid[loc[0]] = f"the change does not fit the wire format: {_where(loc[1:])}{problem['msg']}"
        return invalid
    return {}


def _where(loc: tuple[int | str, ...]) -> str:
    """A problem's place inside a change (``fields.phone.stamp: ``); each part cut to 80 characters."""
    if not loc:
        return ""
    return ".".join(str(part)[:80] for part in loc) + ": "


DeviceRole = Literal["leader", "worker", "cadre", "volunteer", "sampling_team"]
"""The grid's staff (leader, worker) and its temporary members (``field_agent.domain.rights.TEMPORARY_ROLES``)."""


class _Strict(BaseModel):
    model_config = _CLOSED


class EnrollRequest(_Strict):
    code: Annotated[str, StringConstraints(min_length=4, max_length=128)]
    node_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    # shown in the office's terminal (device list) and page: one line of printable text, no control characters
    device_name: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
    ] = "tablet"


class EnrollResponse(_Strict):
    device_id: str
    token: str
    grid: str
    grid_name: str
    town: str
    worker: str
    role: DeviceRole
    # a temporary member's last day (ISO date, town time): the device stops working after it; None for the staff.
    # Sent only when set (``response_model_exclude_none``), so a tablet from before temporary members reads the
    # staff's answers as before
    until: str | None = None


class DeviceInfo(_Strict):
    device_id: str
    grid: str
    worker: str
    role: DeviceRole
    server_time_ms: int
    until: str | None = None


class ErrorDetail(_Strict):
    code: str
    message: str


class ErrorBody(_Strict):
    error: ErrorDetail
