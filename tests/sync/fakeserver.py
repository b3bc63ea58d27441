"""A model of the town server's sync API over httpx.MockTransport, using the shared merge code (tests only)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import zstandard

from field_agent.domain.envelope import change_stamps
from field_agent.domain.hlc import StampError, check_not_future, wall_ms
from field_agent.protocol.merge import MergeRefused, apply_change


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps({"error": {"code": code, "message": message}}), headers=headers)


class FakeServer:
    """Grid-scoped records with a sequence cursor, idempotent batches, devices with tokens."""

    def __init__(self, now_ms: Callable[[], int] = wall_ms) -> None:
        self.now_ms = now_ms
        self.records: dict[str, dict[str, Any]] = {}
        self.seq_of: dict[str, int] = {}
        self.seq = 0
        self.batches: dict[tuple[str, str], dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, str] = {}
        self.requests: list[tuple[str, str, Any]] = []
        # scripted faults, consumed in order: ("status", code, headers) or ("drop_after", None, None)
        self.faults: list[tuple[str, Any, Any]] = []

    def add_device(self, grid: str = "g1", role: str = "worker") -> str:
        token = secrets.token_hex(16)
        self.devices[token] = {"device_id": f"d{len(self.devices) + 1}", "grid": grid, "role": role, "revoked": False}
        return token

    def push(self, device: dict[str, Any], batch_id: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
        key = (device["device_id"], batch_id)
        if key in self.batches:
            return {**self.batches[key], "replayed": True}
        results = [self._apply(device, change) for change in changes]
        answer = {"batch_id": batch_id, "results": results, "replayed": False}
        self.batches[key] = answer
        return answer

    def _apply(self, device: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
        record = change["record"]
        base = {"record": record, "code": None, "reason": None, "conflicts": []}
        if change["grid"] != device["grid"]:
            return {**base, "status": "refused", "code": "wrong_grid", "reason": "record of another grid"}
        try:
            for stamp in change_stamps(change):
                check_not_future(stamp, now_ms=self.now_ms())
            envelope, outcome = apply_change(self.records.get(record), change)
        except (StampError, MergeRefused) as error:
            code = "stamp_in_future" if isinstance(error, StampError) else "merge_refused"
            return {**base, "status": "refused", "code": code, "reason": str(error)}
        # Every accepted change re-publishes its record, so the pusher pulls the server's decision even when its
        # write lost to a newer one (its pull had kept the pending value and skipped the newer stamp).
        self.records[record] = envelope
        self.seq += 1
        self.seq_of[record] = self.seq
        return {**base, "status": outcome.status, "conflicts": outcome.conflicts}

    def pull(self, device: dict[str, Any], cursor: int, limit: int) -> dict[str, Any]:
        ordered = sorted(
            (seq, rid)
            for rid, seq in self.seq_of.items()
            if seq > cursor and self.records[rid]["grid"] == device["grid"]
        )
        page = ordered[:limit]
        next_cursor = page[-1][0] if len(ordered) > limit else max(cursor, self.seq)
        return {
            "records": [copy.deepcopy(self.records[rid]) for _, rid in page],
            "next_cursor": next_cursor,
            "more": len(ordered) > limit,
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        content = request.content
        if request.headers.get("content-encoding") == "zstd":  # as the town server reads a compressed body
            content = zstandard.ZstdDecompressor().stream_reader(content).read()
        body = orjson.loads(content) if content else None
        self.requests.append((request.method, path, body))
        if self.faults:
            kind, status, headers = self.faults.pop(0)
            if kind == "status":
                return _error(status, "scripted", "scripted failure", headers)
            if kind == "offline":
                raise httpx.ConnectError("connection refused", request=request)
            if kind == "drop_after":
                self._route(request, path, body)
                raise httpx.ReadError("connection reset after the server answered", request=request)
        return self._route(request, path, body)

    def _route(self, request: httpx.Request, path: str, body: Any) -> httpx.Response:
        if path == "/v1/enroll":
            grid = self.codes.pop(body["code"], None)
            if grid is None:
                return _error(400, "code_invalid", "this enrolment code is unknown, used or expired")
            token = self.add_device(grid)
            device = self.devices[token]
            return httpx.Response(
                200,
                content=orjson.dumps(
                    {
                        "device_id": device["device_id"],
                        "token": token,
                        "grid": grid,
                        "grid_name": "Grid One",
                        "town": "Town",
                        "worker": "Li",
                        "role": "worker",
                    }
                ),
            )
        auth = request.headers.get("authorization", "")
        device = self.devices.get(auth.removeprefix("Bearer "))
        if device is None:
            return _error(401, "token_invalid", "unknown token")
        if device["revoked"]:
            return _error(401, "device_revoked", "revoked")
        if path == "/v1/push":
            return httpx.Response(200, content=orjson.dumps(self.push(device, body["batch_id"], body["changes"])))
        if path == "/v1/pull":
            cursor, limit = int(request.url.params["cursor"]), int(request.url.params["limit"])
            return httpx.Response(200, content=orjson.dumps(self.pull(device, cursor, limit)))
        return _error(404, "not_found", path)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
