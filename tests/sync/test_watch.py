"""The nightly daemon's schedule: the window, the interval, demands, offline backoff, fatal refusals, stopping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from field_agent.sync.agent import OFFLINE_MESSAGE, SyncResult
from field_agent.sync.backoff import RetryPolicy
from field_agent.sync.watch import EXIT_FATAL, WatchConfig, Watcher, Window, config_from_store

from .memstore import MemStore


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class ScriptedAgent:
    """Answers each sync with the next scripted result, advancing the clock; stops the watcher when done."""

    clock: FakeClock
    results: list[SyncResult]
    step: timedelta = timedelta(minutes=1)
    watcher: Watcher | None = None
    calls: list[datetime] | None = None
    stop_requests: int = 0

    async def sync(self) -> SyncResult:
        self.calls = (self.calls or []) + [self.clock.moment]
        result = self.results.pop(0) if self.results else SyncResult()
        if not self.results and self.watcher is not None:
            self.watcher.request_stop()
        return result

    def request_stop(self) -> None:
        self.stop_requests += 1


def make(start: datetime, results: list[SyncResult], **config: object) -> tuple[Watcher, ScriptedAgent, FakeClock]:
    clock = FakeClock(start)
    agent = ScriptedAgent(clock, results)
    options = {"poll_s": 0.001, "interval_s": 3600.0, "offline_backoff": RetryPolicy(base_s=60, cap_s=60)}
    options.update(config)
    watcher = Watcher(agent, WatchConfig(**options), now=clock)  # type: ignore[arg-type]
    agent.watcher = watcher
    return watcher, agent, clock


def test_window_parsing_and_membership() -> None:
    night = Window.parse("20:00-07:00")
    assert night.contains(datetime(2026, 11, 30, 23, 0)) and night.contains(datetime(2026, 11, 30, 6, 59))
    assert not night.contains(datetime(2026, 11, 30, 7, 0)) and not night.contains(datetime(2026, 11, 30, 12, 0))
    day = Window.parse("9:30-17:00")
    assert day.contains(datetime(2026, 11, 30, 9, 30)) and not day.contains(datetime(2026, 11, 30, 17, 0))
    assert str(night) == "20:00-07:00"
    for bad in ("8-9", "25:00-07:00", "20:00-20:00", ""):
        with pytest.raises(ValueError, match="sync window"):
            Window.parse(bad)


def test_the_window_and_interval_come_from_the_store_unless_given() -> None:
    store = MemStore()
    assert config_from_store(store).window == Window(time(20), time(7))
    store.meta_set("sync_window", "21:00-05:00")
    store.meta_set("sync_interval_min", 30)
    config = config_from_store(store)
    assert (str(config.window), config.interval_s) == ("21:00-05:00", 1800)
    assert str(config_from_store(store, "22:00-04:00", 5).window) == "22:00-04:00"
    with pytest.raises(ValueError, match="positive"):
        config_from_store(store, None, 0)


async def test_inside_the_window_it_syncs_at_once_then_each_interval() -> None:
    watcher, agent, clock = make(datetime(2026, 11, 30, 21, 0), [SyncResult(), SyncResult(), SyncResult()])
    original_sync = agent.sync

    async def sync_and_advance() -> SyncResult:
        result = await original_sync()
        clock.moment += timedelta(minutes=20)
        return result

    agent.sync = sync_and_advance  # type: ignore[method-assign]
    ticks = 0
    original_idle = watcher._idle

    async def idle() -> None:
        nonlocal ticks
        ticks += 1
        clock.moment += timedelta(minutes=10)
        await original_idle()

    watcher._idle = idle  # type: ignore[method-assign]
    assert await watcher.run() == 0
    assert agent.calls is not None
    gaps = [later - earlier for earlier, later in zip(agent.calls, agent.calls[1:], strict=False)]
    assert agent.calls[0] == datetime(2026, 11, 30, 21, 0)
    assert all(gap >= timedelta(hours=1) for gap in gaps)


async def test_outside_the_window_only_a_demand_or_the_flag_file_syncs(tmp_path: Path) -> None:
    flag = tmp_path / "sync-now"
    watcher, agent, clock = make(datetime(2026, 11, 30, 12, 0), [SyncResult(), SyncResult()], trigger_path=flag)
    idles = 0
    original_idle = watcher._idle

    async def idle() -> None:
        nonlocal idles
        idles += 1
        clock.moment += timedelta(minutes=5)
        if idles == 5:
            watcher.request_sync()
        if idles == 10:
            flag.touch()
        await original_idle()

    watcher._idle = idle  # type: ignore[method-assign]
    assert await watcher.run() == 0
    assert agent.calls == [datetime(2026, 11, 30, 12, 25), datetime(2026, 11, 30, 12, 50)]
    assert not flag.exists()


async def test_offline_retries_after_the_backoff_not_the_interval() -> None:
    offline = SyncResult(error=OFFLINE_MESSAGE, error_kind="offline")
    watcher, agent, clock = make(datetime(2026, 11, 30, 22, 0), [offline, offline, SyncResult()])
    original_idle = watcher._idle

    async def idle() -> None:
        clock.moment += timedelta(seconds=20)
        await original_idle()

    watcher._idle = idle  # type: ignore[method-assign]
    await watcher.run()
    assert agent.calls is not None and len(agent.calls) == 3
    assert all(b - a <= timedelta(seconds=80) for a, b in zip(agent.calls, agent.calls[1:], strict=False))


async def test_a_refused_device_stops_the_daemon_with_exit_4() -> None:
    revoked = SyncResult(error="the town office has revoked this device", error_kind="auth")
    watcher, agent, _ = make(datetime(2026, 11, 30, 22, 0), [revoked, SyncResult()])
    assert await watcher.run() == EXIT_FATAL
    assert agent.calls is not None and len(agent.calls) == 1


async def test_stop_is_passed_to_the_agent_and_ends_the_loop() -> None:
    watcher, agent, _ = make(datetime(2026, 11, 30, 12, 0), [])
    watcher.request_stop()
    assert await watcher.run() == 0
    assert agent.stop_requests == 1 and agent.calls is None


async def test_the_session_opens_the_store_per_run_and_reports_a_busy_or_changed_store(tmp_path: Path) -> None:
    from field_agent.store import StoreLocked, WrongPassphrase
    from field_agent.sync.watch import StoreSession

    opened: list[MemStore] = []
    closed: list[MemStore] = []

    class ClosingStore(MemStore):
        def close(self) -> None:
            closed.append(self)

    def open_ok() -> MemStore:
        opened.append(ClosingStore())
        return opened[-1]

    class Agent:
        def __init__(self, store: MemStore) -> None:
            self.store = store

        async def sync(self) -> SyncResult:
            assert self.store not in closed
            return SyncResult(pushed=1)

        def request_stop(self) -> None:
            pass

    session = StoreSession(open_ok, Agent)
    assert (await session.sync()).pushed == 1
    assert opened == closed and session.current is None

    def busy() -> MemStore:
        raise StoreLocked(tmp_path, "pid 42")

    result = await StoreSession(busy, Agent).sync()
    assert result.error_kind == "store" and "StoreLocked" in result.error

    def changed() -> MemStore:
        raise WrongPassphrase(1)

    watcher, _, _ = make(datetime(2026, 11, 30, 22, 0), [])
    watcher.agent = StoreSession(changed, Agent)
    assert await watcher.run() == EXIT_FATAL


def test_the_interval_is_logged_as_a_person_reads_it() -> None:
    from field_agent.sync.watch import _every

    assert [_every(s) for s in (30, 59.5, 60, 150, 300)] == ["30 s", "59.5 s", "1 min", "2.5 min", "5 min"]
