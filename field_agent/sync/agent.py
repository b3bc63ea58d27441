"""The sync agent: push the outbox in batches, pull everything since the cursor, report progress.

Every store call runs in a worker thread (``asyncio.to_thread``) so the terminal app's event loop never blocks.
A batch leaves the outbox only when ``store.ack_batch`` has durably recorded the server's answer; until then the
store hands out the same batch (same id) again, and the server answers a repeated batch id from its first result.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from field_agent.domain.errors import ConfigError
from field_agent.protocol.wire import invalid_changes
from field_agent.store.errors import StoreError
from field_agent.store.retention import RETENTION_KEY
from field_agent.store.salvage import PULL_EVERYTHING_KEY
from field_agent.sync.backoff import RetryPolicy, Sleep, with_retries
from field_agent.sync.client import SyncClient
from field_agent.sync.conflicts import list_conflicts, resolve
from field_agent.sync.enroll import enroll
from field_agent.sync.errors import NotEnrolled, Offline, ProtocolError, RateLimited, ServerError, SyncError
from field_agent.sync.store_view import SyncedStore

__all__ = ["SyncAgent", "SyncProgress", "SyncResult", "enroll", "list_conflicts", "resolve"]

OFFLINE_MESSAGE = "offline: the town server could not be reached; unsent changes are kept for the next sync"


def server_down_message(status: int) -> str:
    """What a run says when the server kept answering with an error (5xx) until its retries ran out."""
    return (
        f"offline: the town server kept answering with an error (HTTP {status}); "
        "unsent changes are kept for the next sync"
    )


class _Stopped(SyncError):
    kind = "stopped"


@dataclass(frozen=True)
class _PreparedBatch:
    """A frozen batch, its malformed changes (kept aside, by index) and the request body of the rest."""

    batch_id: str
    changes: list[dict[str, Any]]
    invalid: dict[int, str]
    sendable: list[dict[str, Any]]
    encoded: bytes


@dataclass(frozen=True)
class SyncProgress:
    """One progress event: ``phase`` is connect, push, pull, retry or done; ``total`` is None when unknown.

    ``message`` says it in English (the CLI's log); ``key`` and ``params`` let a user interface say it in its own
    language: ``connect`` (url), ``push_start`` (total), ``push_sent`` (done, total), ``pull_received`` (count),
    ``retry`` (kind, error, attempt, seconds), ``done`` (pushed, pulled, conflicts, refused, erased, stopped) and
    ``failed`` (kind, error).
    """

    phase: str
    done: int
    total: int | None
    message: str
    key: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class SyncResult:
    """What one sync run did. ``conflicts`` and ``refused`` count what awaits a person after the run."""

    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    refused: int = 0
    duration_s: float = 0.0
    error: str | None = None
    error_kind: str | None = None
    new_conflicts: int = 0
    stopped: bool = False
    erased: int = 0  # records (or their health answers) erased here by the town's retention rule
    erased_unsent: int = 0  # unsent or refused changes of those records dropped with them
    retired: int = 0  # settled records of finished work that left the tablet under the town's window (kept online)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.stopped

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data


ProgressCallback = Callable[[SyncProgress], Awaitable[None] | None]


class SyncAgent:
    """Syncs one store with its town server; one ``sync()`` at a time."""

    def __init__(
        self,
        store: SyncedStore,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        batch_size: int = 500,
        page_size: int = 500,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        server_url: str | None = None,
        timeout: float = 30.0,
        compress: bool = True,
        skip_own: bool = True,
    ) -> None:
        """``compress`` and ``skip_own``: see ``SyncClient`` (both off: the wire as before them, for comparison)."""
        if not 1 <= batch_size <= 1000 or not 1 <= page_size <= 2000:
            raise ValueError("batch_size must be 1..1000 and page_size 1..2000")
        self.store = store
        self.transport = transport
        self.batch_size = batch_size
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.server_url = server_url
        self.timeout = timeout
        self.compress = compress
        self.skip_own = skip_own
        self._stop_requested = False
        self._stop_event: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    def request_stop(self) -> None:
        """Stop after the batch or page in flight (its answer is still recorded); cuts a retry wait short."""
        self._stop_requested = True
        if self._stop_event is not None:
            self._stop_event.set()

    async def _pause(self, seconds: float) -> None:
        if self.sleep is asyncio.sleep and self._stop_event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), seconds)
        else:
            await self.sleep(seconds)
        if self._stop_requested:
            raise _Stopped("stopped while waiting to retry")

    async def sync(self, on_progress: ProgressCallback | None = None, *, pull: bool = True) -> SyncResult:
        """Push every pending change, then pull every page; never raises a SyncError, reports it instead.

        The pull runs only after every batch's answer is recorded (``pull=False`` skips it): a pull while a
        batch is in flight would keep the tablet's values for writes the server may already have overruled.
        """
        async with self._lock:
            self._stop_requested = False
            self._stop_event = asyncio.Event()
            try:
                return await self._run(on_progress, pull)
            finally:
                self._stop_event = None

    async def _run(self, on_progress: ProgressCallback | None, pull: bool) -> SyncResult:
        started = time.perf_counter()
        result = SyncResult()

        async def emit(progress: SyncProgress) -> None:
            if on_progress is not None:
                outcome = on_progress(progress)
                if inspect.isawaitable(outcome):
                    await outcome

        try:
            url, token, pinned = await asyncio.to_thread(self._credentials)
            await emit(SyncProgress("connect", 0, None, f"connecting to {url}", "connect", {"url": url}))
            async with SyncClient(
                url,
                token=token,
                transport=self.transport,
                pinned_cert=pinned,
                timeout=self.timeout,
                compress=self.compress,
                skip_own=self.skip_own,
            ) as client:
                await self._push_all(client, result, emit)
                if pull and not self._stop_requested:
                    await self._pull_all(client, result, emit)
                    if not self._stop_requested:
                        await asyncio.to_thread(self._retire, client.town_settings, result)
            result.stopped = self._stop_requested
        except _Stopped:
            result.stopped = True
        except (Offline, RateLimited):
            result.error, result.error_kind = OFFLINE_MESSAGE, "offline"
        except ServerError as error:
            if error.retryable:  # a 5xx that outlasted this run's retries: for the worker, the server is down
                result.error, result.error_kind = server_down_message(error.status), "offline"
            else:
                result.error, result.error_kind = error.message, error.kind
        except SyncError as error:
            result.error, result.error_kind = error.message, error.kind
        except StoreError as error:
            # e.g. a full disk: nothing acknowledged is lost (the batch stays in flight); say so and stop
            result.error, result.error_kind = _store_failed(error), "store"
        try:
            await asyncio.to_thread(self._finish, result)
        except StoreError as error:
            result.error = result.error or _store_failed(error)
            result.error_kind = result.error_kind or "store"
        result.duration_s = time.perf_counter() - started
        await emit(SyncProgress("done", result.pushed + result.pulled, None, _summary(result), *_summary_key(result)))
        return result

    def _credentials(self) -> tuple[str, str, str | None]:
        url = self.server_url or self.store.meta_get("server_url")
        token = self.store.meta_get("token")
        if not url or not token:
            raise NotEnrolled("this device is not enrolled yet: run 'field-agent enroll URL CODE' first")
        return url, token, self.store.meta_get("pinned_cert")

    def _finish(self, result: SyncResult) -> None:
        result.conflicts = len(self.store.open_conflicts())
        result.refused = len(self.store.refused_changes())
        if result.error_kind in (None, "offline", "server", "protocol", "auth", "device_expired"):
            self.store.meta_set(
                "last_sync",
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "ok": result.ok,
                    "pushed": result.pushed,
                    "pulled": result.pulled,
                    "error": result.error,
                    "error_kind": result.error_kind,
                },
            )

    async def _call(self, call: Callable[[], Awaitable[Any]], emit: Any, done: int, total: int | None) -> Any:
        async def on_wait(error: SyncError, pause: float, attempt: int) -> None:
            await emit(
                SyncProgress(
                    "retry",
                    done,
                    total,
                    f"{error.message} (retry {attempt} in {pause:.1f} s)",
                    "retry",
                    {"kind": error.kind, "error": error.message, "attempt": attempt, "seconds": pause},
                )
            )

        return await with_retries(call, self.retry, sleep=self._pause, on_wait=on_wait)

    async def _push_all(self, client: SyncClient, result: SyncResult, emit: Any) -> None:
        """Send batch after batch; a batch goes only once the previous batch's answer is durably recorded."""
        total = await asyncio.to_thread(self.store.pending_count)
        # the pull cursor reached (no pull runs while pushing): the server leaves out of later pulls what the
        # batches write that this device holds as stored
        cursor = int(await asyncio.to_thread(self.store.meta_get, "cursor", 0) or 0)
        done = 0
        if total:
            await emit(SyncProgress("push", 0, total, f"sending {total} changes", "push_start", {"total": total}))
        previous: str | None = None
        answered: tuple[str, list[dict[str, Any]]] | None = None
        while True:
            # one worker-thread hop (and one durable store commit) records the last answer and freezes the next batch
            batch = await asyncio.to_thread(self._settle_and_prepare, answered, not self._stop_requested)
            if answered is not None:
                for entry in answered[1]:
                    if entry["status"] != "refused":
                        result.pushed += 1
                        result.new_conflicts += len(entry.get("conflicts") or ())
                done += len(answered[1])
                total = max(total, done)
                answered = None
                await emit(
                    SyncProgress(
                        "push",
                        done,
                        total,
                        f"sent {done} of {total} changes",
                        "push_sent",
                        {"done": done, "total": total},
                    )
                )
            if batch is None or self._stop_requested:
                break  # a batch frozen just before a stop stays in flight: the next run sends it first
            if batch.batch_id == previous:
                raise ProtocolError(f"the store handed out batch {batch.batch_id} again after it was acknowledged")
            previous = batch.batch_id
            answered = (batch.batch_id, await self._push_batch(client, batch, emit, done, total, cursor))

    def _settle_and_prepare(
        self, answered: tuple[str, list[dict[str, Any]]] | None, want_next: bool
    ) -> _PreparedBatch | None:
        """Record a batch's answer and freeze the next batch in one store commit; check and encode the next batch.

        Both happen before anything more is sent, so the order rule holds (a batch goes only after the previous
        answer is durable), at the cost of one fsync per batch instead of two. If the commit fails, neither
        happened: the answered batch is still in flight and the next run resends it under the same id.
        """
        store = self.store
        with store.batch():
            if answered is not None:
                store.ack_batch(*answered)
            frozen = store.next_batch(self.batch_size) if want_next else None
        if frozen is None:
            return None
        batch_id, changes = frozen
        invalid = invalid_changes(changes)
        sendable = [change for index, change in enumerate(changes) if index not in invalid]
        encoded = orjson.dumps({"batch_id": batch_id, "changes": sendable}) if sendable else b""
        return _PreparedBatch(batch_id, changes, invalid, sendable, encoded)

    async def _push_batch(
        self, client: SyncClient, batch: _PreparedBatch, emit: Any, done: int, total: int, cursor: int
    ) -> list[dict[str, Any]]:
        answered: list[dict[str, Any]] = []
        if batch.sendable:
            answered = await self._call(
                lambda: client.push(batch.batch_id, batch.sendable, encoded=batch.encoded, cursor=cursor),
                emit,
                done,
                total,
            )
        results, server_results = [], iter(answered)
        for index, change in enumerate(batch.changes):
            if index in batch.invalid:
                results.append(
                    {
                        "record": change.get("record", "?"),
                        "status": "refused",
                        "code": "invalid_change",
                        "reason": batch.invalid[index],
                        "conflicts": [],
                    }
                )
            else:
                results.append(next(server_results))
        return results

    async def _pull_all(self, client: SyncClient, result: SyncResult, emit: Any) -> None:
        """Page through everything since the stored cursor; the next page downloads while this one is saved."""
        cursor = int(await asyncio.to_thread(self.store.meta_get, "cursor", 0) or 0)
        # a salvaged store may have lost records it had pushed: it pulls everything back once before skipping
        refilling = bool(await asyncio.to_thread(self.store.meta_get, PULL_EVERYTHING_KEY, False))
        skip_own = self.skip_own and not refilling
        received = 0

        def fetch(from_cursor: int) -> asyncio.Task[tuple[list[dict[str, Any]], int, bool, list[dict[str, Any]]]]:
            return asyncio.ensure_future(
                self._call(
                    lambda: client.pull_page(from_cursor, self.page_size, skip_own=skip_own), emit, received, None
                )
            )

        pending = fetch(cursor)
        try:
            while True:
                records, next_cursor, more, purged = await pending
                prefetch = more and not self._stop_requested
                if prefetch:
                    pending = fetch(next_cursor)
                if records or purged or next_cursor != cursor:
                    result.pulled += await asyncio.to_thread(self._apply_page, records, next_cursor, purged)
                received += len(records)
                cursor = next_cursor
                await emit(
                    SyncProgress(
                        "pull",
                        received,
                        None if more else received,
                        f"received {received} records",
                        "pull_received",
                        {"count": received},
                    )
                )
                if not prefetch:
                    if refilling and not more:
                        await asyncio.to_thread(self.store.meta_set, PULL_EVERYTHING_KEY, False)
                    break
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, SyncError):
                    await pending
            with contextlib.suppress(StoreError):  # a compaction cut short is redone on the next open
                await asyncio.to_thread(self._finish_erasure, result)

    def _apply_page(self, records: list[dict[str, Any]], next_cursor: int, purged: list[dict[str, Any]]) -> int:
        # The store moves its clock past every pulled stamp, so this device's next edit of a pulled field
        # sorts after the value it replaces even when the tablet's clock lags.
        if purged:  # erasure markers are applied in the same commit as the page (field_agent/store/erasure.py)
            return int(self.store.apply_pulled(records, next_cursor, purged=purged))
        return int(self.store.apply_pulled(records, next_cursor))

    def _retire(self, town_settings: Mapping[str, Any], result: SyncResult) -> None:
        """After a complete pull: save the town's retention window and configuration if the server sent them, then
        let the settled old records go (``Store.retire``, field_agent/store/retention.py). A failure leaves them
        for the next sync."""
        if "tablet_retention_days" in town_settings:
            days = town_settings["tablet_retention_days"]
            if self.store.meta_get(RETENTION_KEY, "unset") != days:
                self.store.meta_set(RETENTION_KEY, days)
        save_town_config = getattr(self.store, "save_town_config", None)
        if "town_config" in town_settings and save_town_config is not None:
            # the town configuration's versions, checked with the domain's parser (field_agent/store/town.py);
            # versions this tablet cannot use are left out and it keeps what it had
            with contextlib.suppress(ConfigError, StoreError):
                save_town_config(town_settings["town_config"])
        retire = getattr(self.store, "retire", None)
        if retire is None:
            return
        with contextlib.suppress(StoreError):
            result.retired += retire().total

    def _finish_erasure(self, result: SyncResult) -> None:
        """Count what erasure markers erased and compact the log, so no frame on disk still holds those values."""
        take = getattr(self.store, "take_erasure_counts", None)
        if take is None:
            return
        counts = take()
        result.erased += counts.erased
        result.erased_unsent += counts.unsent
        self.store.compact_if_erased()


def _store_failed(error: StoreError) -> str:
    """The sync's own bookkeeping could not be saved; the worker's saved records are untouched."""
    return (
        f"sync stopped: the tablet could not record its progress ({error}). Everything saved before is safe; "
        "free some space and sync again"
    )


def _summary_key(result: SyncResult) -> tuple[str, dict[str, Any]]:
    """The key and parameters of the last progress event (what ``_summary`` says in English)."""
    if result.error:
        return "failed", {"kind": result.error_kind, "error": result.error}
    counts = ("pushed", "pulled", "conflicts", "refused", "erased", "stopped")
    return "done", {name: getattr(result, name) for name in counts}


def _summary(result: SyncResult) -> str:
    if result.error:
        return result.error
    text = f"sent {result.pushed}, received {result.pulled}"
    if result.conflicts:
        text += f", {result.conflicts} conflicts to resolve"
    if result.refused:
        text += f", {result.refused} changes refused"
    if result.erased:
        text += f", {result.erased} records erased by the retention rule"
    if result.retired:
        text += f", {result.retired} old records left the tablet (kept on the server)"
    return text + (" (stopped)" if result.stopped else "")
