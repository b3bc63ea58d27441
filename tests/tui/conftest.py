"""Fixtures for the terminal app's tests: a demo grid in a real encrypted store, a frozen clock, Pilot helpers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from field_agent.domain.envelope import view
from field_agent.store import Store, throttle
from field_agent.tui.app import FieldAgentApp, make_app
from field_agent.tui.setup import create_store

PASSPHRASE = "correct horse battery staple"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=timezone(timedelta(hours=8)))
SIZES = {"small": (80, 24), "tablet": (160, 48)}


def frozen_now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo store (seed and "today" fixed), built once and copied for every test."""
    path = tmp_path_factory.mktemp("template") / "store"
    create_store(path, PASSPHRASE, [], "", demo=True, now=frozen_now).close()
    return path


@pytest.fixture
def store_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store"
    shutil.copytree(demo_template, path)
    return path


@pytest.fixture(autouse=True)
def no_unlock_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong passphrases make the store wait before the next try; tests need not wait."""
    monkeypatch.setattr(throttle, "sleep", lambda _seconds: None)


@pytest.fixture
def app_factory(store_path: Path) -> Iterator[Callable[..., FieldAgentApp]]:
    """Builds the real app (make_app) on the test's copy of the demo store, with the frozen clock."""
    made: list[FieldAgentApp] = []

    def factory(lang: str = "zh_CN", opened: bool = True, **kwargs: Any) -> FieldAgentApp:
        store = Store.open(store_path, PASSPHRASE) if opened else None
        app = make_app(store_path, lang=lang, store=store, now=frozen_now, environ={}, **kwargs)
        made.append(app)
        return app

    yield factory
    for app in made:
        if app.session is not None:
            app.session.close()


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker has finished and the messages they posted were handled; cursors stop blinking, so a
    screenshot never depends on how long a loaded machine took to get here (a blink every 0.5 s)."""
    app = pilot.app
    for _ in range(20):
        await pilot.pause()
        running = working(app)
        if running:  # (an empty list would mean every worker)
            await app.workers.wait_for_complete(running)
        await pilot.pause()
        if not working(app):
            break
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


STANDING_WORKERS = frozenset({"_loader"})
"""Worker groups that run for as long as their widget is shown: a ``DirectoryTree``'s loader waits for the next
folder to open (the roster import's file picker)."""


def working(app: Any) -> list[Any]:
    """The app's workers that will finish (not those of ``STANDING_WORKERS``) and are still running."""
    return [worker for worker in app.workers if worker.is_running and worker.group not in STANDING_WORKERS]


async def unlocked(pilot: Pilot[Any]) -> None:
    """Wait for the app, given an open store, to reach the Today screen."""
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "TodayScreen"


def records_of(store_path: Path, kind: str) -> list[dict[str, Any]]:
    """What the store on disk holds, read back with a fresh open (the app's store is closed first)."""
    with Store.open(store_path, PASSPHRASE) as store:
        return [view(envelope) for envelope in store.records(kind)]


async def reopen_records(pilot: Pilot[Any], store_path: Path, kind: str) -> list[dict[str, Any]]:
    """Close the app's store (as locking does) and read the records of one kind from disk."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, FieldAgentApp)
    await app.action_lock()
    await settle(pilot)
    return records_of(store_path, kind)


@pytest.fixture(scope="session")
def demo(demo_template: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The demo store's records as views, by kind and id (read once, before any app opens a copy)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    with Store.open(demo_template, PASSPHRASE) as store:
        for envelope in store.records():
            record = view(envelope)
            found.setdefault(record["kind"], {})[record["id"]] = record
    return found


def household_by_head(demo: dict[str, dict[str, dict[str, Any]]], head: str) -> dict[str, Any]:
    return next(h for h in demo["household"].values() if h.get("head") == head)


def spy_notes(app: Any) -> list[str]:
    """Every toast the app shows, as text (the app's ``notify`` wrapped)."""
    notes: list[str] = []
    notify = app.notify

    def spy(message: str, *args: Any, **kwargs: Any) -> None:
        notes.append(message)
        notify(message, *args, **kwargs)

    app.notify = spy
    return notes
