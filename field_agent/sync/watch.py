"""``field-agent sync --watch``: sync in the nightly window, periodically while in it, otherwise only on demand."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from field_agent.sync.backoff import RetryPolicy

DEFAULT_WINDOW = "20:00-07:00"
DEFAULT_INTERVAL_MIN = 60
FATAL_KINDS = frozenset({"auth", "not_enrolled", "certificate", "enroll", "passphrase"})
EXIT_OK, EXIT_FATAL = 0, 4
_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

log = logging.getLogger("field_agent.sync.watch")


@dataclass(frozen=True)
class Window:
    """A daily local-time window; ``start > end`` wraps past midnight (20:00-07:00)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Window:
        match = _WINDOW_RE.match(text or "")
        if match is None:
            raise ValueError(f"sync window {text!r} must look like 20:00-07:00 (HH:MM-HH:MM, local time)")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"sync window {text!r} has an impossible time of day")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"sync window {text!r} is empty: start and end are the same")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, moment: datetime) -> bool:
        now = moment.time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass
class WatchConfig:
    """How the daemon behaves: when it syncs, how it hears a demand, how it backs off while offline."""

    window: Window = field(default_factory=lambda: Window.parse(DEFAULT_WINDOW))
    interval_s: float = DEFAULT_INTERVAL_MIN * 60
    poll_s: float = 2.0
    trigger_path: Path | None = None
    offline_backoff: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_s=30, cap_s=900))


def config_from_store(store: Any, window: str | None = None, interval_min: float | None = None) -> WatchConfig:
    """The window and interval from the command line, else from the store's settings, else the defaults."""
    window_text = window or store.meta_get("sync_window") or DEFAULT_WINDOW
    minutes = interval_min if interval_min is not None else store.meta_get("sync_interval_min") or DEFAULT_INTERVAL_MIN
    if float(minutes) <= 0:
        raise ValueError("the sync interval must be a positive number of minutes")
    return WatchConfig(window=Window.parse(window_text), interval_s=float(minutes) * 60)


class StoreSession:
    """Opens the store for each run and closes it after, so the terminal app can use it between runs.

    Looks like an agent to the Watcher (``sync()``, ``request_stop()``).
    """

    def __init__(self, open_store: Callable[[], Any], make_agent: Callable[[Any], Any]) -> None:
        self.open_store = open_store
        self.make_agent = make_agent
        self.current: Any = None

    async def sync(self) -> Any:
        from field_agent.store import StoreError, WrongPassphrase
        from field_agent.sync.agent import SyncResult

        try:
            store = await asyncio.to_thread(self.open_store)
        except WrongPassphrase:
            return SyncResult(error="the store's passphrase has changed: restart the daemon", error_kind="passphrase")
        except StoreError as error:  # e.g. the terminal app has it open: try again later
            return SyncResult(error=f"cannot open the store now: {type(error).__name__}", error_kind="store")
        try:
            self.current = self.make_agent(store)
            return await self.current.sync()
        finally:
            self.current = None
            await asyncio.to_thread(store.close)

    def request_stop(self) -> None:
        if self.current is not None:
            self.current.request_stop()


class Watcher:
    """Runs the agent on schedule until stopped; returns an exit code (4 when the server refuses the device)."""

    def __init__(self, agent: Any, config: WatchConfig, *, now: Callable[[], datetime] = datetime.now) -> None:
        self.agent = agent
        self.config = config
        self.now = now
        self.runs = 0
        self._stop = False
        self._demand = False
        self._wake = asyncio.Event()

    def request_stop(self) -> None:
        """Stop cleanly: the batch in flight is finished and recorded, then the daemon exits."""
        self._stop = True
        self.agent.request_stop()
        self._wake.set()

    def request_sync(self) -> None:
        """Sync now, inside the window or not."""
        self._demand = True
        self._wake.set()

    def _take_demand(self) -> bool:
        demanded, self._demand = self._demand, False
        trigger = self.config.trigger_path
        if trigger is not None and trigger.exists():
            trigger.unlink(missing_ok=True)
            demanded = True
        return demanded

    async def run(self) -> int:
        log.info("watching: window %s, every %s inside it", self.config.window, _every(self.config.interval_s))
        next_due: datetime | None = None
        was_inside = False
        failures = 0
        while not self._stop:
            now = self.now()
            inside = self.config.window.contains(now)
            if inside and not was_inside:
                next_due = None
            was_inside = inside
            demanded = self._take_demand()
            if demanded or (inside and (next_due is None or now >= next_due)):
                reason = "on demand" if demanded else "in the nightly window"
                log.info("sync started (%s)", reason)
                try:
                    result = await self.agent.sync()
                except Exception as error:  # a bug must not end the nightly daemon; the log names it
                    log.error("sync crashed (%s); will retry", type(error).__name__)
                    result = _crashed(type(error).__name__)
                self.runs += 1
                log.info("%s", _describe(result))
                if result.error_kind in FATAL_KINDS:
                    log.error("stopping: the device cannot sync until a person acts (%s)", result.error_kind)
                    return EXIT_FATAL
                if result.error is not None:
                    pause = self.config.offline_backoff.delay(failures)
                    failures += 1
                    log.info("next try in %.0f s", pause)
                else:
                    failures = 0
                    pause = self.config.interval_s
                next_due = self.now() + timedelta(seconds=pause)
            await self._idle()
        log.info("stopped")
        return EXIT_OK

    async def _idle(self) -> None:
        self._wake.clear()
        if self._stop or self._demand:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.config.poll_s)


def _crashed(name: str) -> Any:
    from field_agent.sync.agent import SyncResult

    return SyncResult(error=f"internal error ({name})", error_kind="crash")


def _describe(result: Any) -> str:
    if result.error is not None:
        return f"sync failed ({result.error_kind}): {result.error}"
    text = (
        f"sync done in {result.duration_s:.1f} s: sent {result.pushed}, received {result.pulled}, "
        f"{result.conflicts} open conflicts, {result.refused} refused changes"
    )
    return text + (" (stopped early)" if result.stopped else "")


def install_signals(watcher: Watcher) -> None:
    """SIGTERM/SIGINT stop cleanly between batches; SIGUSR1 asks for a sync now."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, watcher.request_stop)
    loop.add_signal_handler(signal.SIGINT, watcher.request_stop)
    loop.add_signal_handler(signal.SIGUSR1, watcher.request_sync)


def log_to_file(path: Path) -> logging.Handler:
    """Send the daemon's log lines (counts and states only, never record contents) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


def _every(seconds: float) -> str:
    """``90 s``, ``5 min``, ``2.5 min``: an interval as a person reads it."""
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:g} min"
