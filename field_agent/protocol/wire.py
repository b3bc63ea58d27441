"""Wire format of the sync protocol (``/v1/``), shared by the town server and the sync agent.

JSON over HTTP. Push sends batches of per-record changes (see ``field_agent.domain.envelope``) under an
idempotency key; pull pages through records changed since a cursor (the server's sequence number).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PROTOCOL_VERSION = 1
API_PREFIX = "/v1"
MAX_BATCH_CHANGES = 1000
MAX_PULL_LIMIT = 2000
DEFAULT_PULL_LIMIT = 500
MAX_NAME_LENGTH = 64
MAX_STRING_LENGTH = 4000

Stamp = Annotated[str, StringConstraints(pattern=r"^\d{15}-\d{5}-[0-9a-f]{12}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")]
BatchId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
RecordKind = Literal[
    "grid", "household", "resident", "visit", "sampling_round", "sampling", "followup", "task", "config"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldWrite(_Strict):
    value: Any
    stamp: Stamp


class SetWrite(_Strict):
    present: bool
    stamp: Stamp


class Change(_Strict):
    record: RecordId
    kind: RecordKind
    grid: RecordId
    fields: dict[Name, FieldWrite] = Field(default_factory=dict)
    sets: dict[Name, dict[Name, SetWrite]] = Field(default_factory=dict)
    base: dict[Name, Stamp] = Field(default_factory=dict)
    resolve: dict[Annotated[str, StringConstraints(max_length=128)], Stamp] = Field(default_factory=dict)


class PushRequest(_Strict):
    batch_id: BatchId
    changes: list[Change] = Field(max_length=MAX_BATCH_CHANGES)


class ChangeResult(_Strict):
    record: str
    status: Literal["applied", "conflict", "refused"]
    code: str | None = None
    reason: str | None = None
    conflicts: list[str] = Field(default_factory=list)


class PushResponse(_Strict):
    batch_id: str
    results: list[ChangeResult]
    replayed: bool = False


class Envelope(_Strict):
    id: str
    kind: str
    grid: str
    fields: dict[str, Any]
    stamps: dict[str, str]
    sets: dict[str, dict[str, list[Any]]]
    conflicts: dict[str, dict[str, Any]]


class PurgeMarker(_Strict):
    """A record (``fields`` None) or some of its fields erased by the town's retention rule; never a value.

    ``fields`` maps each erased field to the server's stamp that cleared it; ``parent`` is the round (sampling)
    or resident (follow-up) the erased record belonged to."""

    id: str
    kind: str
    grid: str
    seq: int
    purged_ms: int
    parent: str | None = None
    fields: dict[str, str] | None = None


class PullResponse(_Strict):
    records: list[Envelope]
    next_cursor: int
    more: bool
    purged: list[PurgeMarker] = Field(default_factory=list)


class EnrollRequest(_Strict):
    code: Annotated[str, StringConstraints(min_length=4, max_length=128)]
    node_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    device_name: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)] = "tablet"


class EnrollResponse(_Strict):
    device_id: str
    token: str
    grid: str
    grid_name: str
    town: str
    worker: str
    role: Literal["leader", "worker"]


class DeviceInfo(_Strict):
    device_id: str
    grid: str
    worker: str
    role: Literal["leader", "worker"]
    server_time_ms: int


class ErrorDetail(_Strict):
    code: str
    message: str


class ErrorBody(_Strict):
    error: ErrorDetail
