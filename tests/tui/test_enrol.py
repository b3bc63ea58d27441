"""First run with a town server: enrol with a one-time code, first sync with progress, readable failures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Label

from field_agent.sync.agent import SyncAgent
from field_agent.sync.enroll import enroll
from field_agent.tui.app import FieldAgentApp, make_app
from field_agent.tui.screens.today import TodayScreen
from field_agent.tui.screens.unlock import UnlockScreen

from .conftest import PASSPHRASE, frozen_now, records_of, settle
from .test_unlock import type_into

SERVER = "http://town.test"


@dataclass
class Town:
    transport: httpx.AsyncBaseTransport
    grid: str
    db: Any

    def code(self) -> str:
        from server_stub.enrolment import issue_code

        return issue_code(self.db, self.grid, "陈倩", "leader", ttl_ms=3_600_000)["code"]


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    """The real town server app, in process, with one demo grid of 12 households."""
    from server_stub.app import create_app
    from server_stub.db import open_database
    from server_stub.demo import seed_demo

    db = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    grid = seed_demo(db, grids=1, households=12, seed=7)["grids"][0]
    yield Town(httpx.ASGITransport(app=create_app(db)), grid, db)
    db.close()


def first_run_app(
    path: Path, transport: httpx.AsyncBaseTransport, lang: str = "en", **enroll_options: Any
) -> FieldAgentApp:
    async def enroll_with(store: Any, url: str, code: str) -> Any:
        return await enroll(store, url, code, transport=transport, **enroll_options)

    return make_app(
        path,
        lang=lang,
        now=frozen_now,
        environ={},
        agent_factory=lambda store: SyncAgent(store, transport=transport),
        enroll_with=enroll_with,
    )


async def fill_enrolment(pilot, server: str, code: str) -> None:
    for selector, text in (("#passphrase", PASSPHRASE), ("#confirm", PASSPHRASE), ("#server", server), ("#code", code)):
        await type_into(pilot, selector, text)


async def test_first_run_enrols_and_syncs_the_grid(tmp_path: Path, town: Town) -> None:
    path = tmp_path / "store"
    messages: list = []
    app = first_run_app(path, town.transport)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        assert isinstance(app.screen, UnlockScreen) and app.screen.first_run
        await fill_enrolment(pilot, SERVER, town.code())
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        phases = [m.progress.phase for m in messages if isinstance(m, UnlockScreen.FirstSyncProgressed)]
        assert "pull" in phases and phases[-1] == "done"
        assert app.session is not None and app.session.worker == "陈倩"
        await app.action_lock()
        await settle(pilot)
    assert len(records_of(path, "household")) == 12


async def test_a_wrong_code_says_so_and_leaves_no_store(tmp_path: Path, town: Town) -> None:
    path = tmp_path / "store"
    app = first_run_app(path, town.transport)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_enrolment(pilot, SERVER, "NOT-A-REAL-CODE")
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.session is None
        error = str(app.screen.query_one("#unlock-error", Label).content)
        assert "does not know this enrolment code" in error
        assert not path.exists()
        # The worker fixes the code and tries again on the same screen.
        await fill_enrolment(pilot, SERVER, town.code())
        await pilot.press("enter")  # Enter in the code box enrols
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        await app.action_lock()
        await settle(pilot)
    assert len(records_of(path, "household")) == 12


async def test_offline_is_explained(tmp_path: Path) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = first_run_app(tmp_path / "store", httpx.MockTransport(unreachable))
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_enrolment(pilot, SERVER, "ABCD-EFGH")
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "Cannot reach the town server" in str(app.screen.query_one("#unlock-error", Label).content)
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("server", "code", "expected"),
    [
        ("http://", "ABCD-EFGH", "这不是服务器地址"),
        ("http://town.test", "ABCD:1234", "证书指纹"),
        ("http://town.test", f"ABCD:{'ab' * 32}", "须以 https:// 开头"),
        ("http://town.test", "NOT-A-REAL-CODE", "镇服务器不认识这个登记码"),
        ("offline", "ABCD-EFGH", "连不上镇服务器"),
    ],
)
async def test_enrolment_errors_are_all_chinese_on_a_chinese_screen(
    tmp_path: Path, town: Town, server: str, code: str, expected: str
) -> None:
    """Whatever went wrong, a Chinese screen says it in Chinese only: no English from the agent or the server."""

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(unreachable) if server == "offline" else town.transport
    app = first_run_app(tmp_path / "store", transport, lang="zh_CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_enrolment(pilot, SERVER if server == "offline" else server, code)
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.session is None
        error = str(app.screen.query_one("#unlock-error", Label).content)
    assert expected in error
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"https://[a-z.:0-9]*", "", error)), error
    assert not (tmp_path / "store").exists()


async def test_a_certificate_other_than_the_code_names_is_refused(tmp_path: Path, town: Town) -> None:
    async def impostor_certificate(host: str, port: int) -> bytes:
        return b"an impostor's certificate"

    app = first_run_app(tmp_path / "store", town.transport, fetch_cert=impostor_certificate)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_enrolment(pilot, "https://town.test", f"{town.code()}:{'ab' * 32}")
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        error = str(app.screen.query_one("#unlock-error", Label).content)
        assert "certificate is not the one the code names" in error
    assert not (tmp_path / "store").exists()


async def test_enrolment_needs_address_and_code(tmp_path: Path, town: Town) -> None:
    app = first_run_app(tmp_path / "store", town.transport)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_enrolment(pilot, SERVER, "")
        await pilot.click("#enrol")
        await settle(pilot)
        assert "enrolment code" in str(app.screen.query_one("#unlock-error", Label).content)
    assert not (tmp_path / "store").exists()


async def test_a_guessable_passphrase_is_refused_before_the_code_is_spent(tmp_path: Path, town: Town) -> None:
    path = tmp_path / "store"
    calls: list[str] = []

    async def enroll_with(store: Any, url: str, code: str) -> Any:
        calls.append(code)
        return await enroll(store, url, code, transport=town.transport)

    app = make_app(path, lang="en", now=frozen_now, environ={}, enroll_with=enroll_with)
    async with app.run_test(size=(80, 24)) as pilot:
        for selector, text in (
            ("#passphrase", "Zhang@1988715"),
            ("#confirm", "Zhang@1988715"),
            ("#server", SERVER),
            ("#code", town.code()),
        ):
            await type_into(pilot, selector, text)
        await pilot.click("#enrol")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        shown = str(app.screen.query_one("#unlock-error", Label).content)
        assert "too weak" in shown and "a pinyin name" in shown and "a date" in shown, shown
    assert calls == []
    assert not (path.exists() and any(path.iterdir()))
