"""Fixtures for the town server tests: databases (SQLite always, PostgreSQL when reachable) and a harness."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from server_stub.cli import cli
from server_stub.db import open_database

from .harness import Harness

PG_URL = os.environ.get("FIELD_SERVER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_pg_reason: list[str | None] = []


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used for tests (None when it can); checked once per run."""
    if not _pg_reason:
        try:
            psycopg.connect(PG_URL, connect_timeout=2).close()
            _pg_reason.append(None)
        except psycopg.Error as error:
            _pg_reason.append(f"PostgreSQL not reachable at {PG_URL}: {str(error).strip().splitlines()[0]}")
    return _pg_reason[0]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own, dropped afterwards (parallel runs never collide)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    url = f"{PG_URL}?schema=fs_test_{uuid.uuid4().hex[:16]}"
    yield url
    db = open_database(url)
    try:
        db.drop_schema()  # type: ignore[attr-defined]
    finally:
        db.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[Harness]:
    harness = Harness(sqlite_url)
    yield harness
    await harness.close()


@pytest.fixture
async def any_server(db_url: str) -> AsyncIterator[Harness]:
    harness = Harness(db_url)
    yield harness
    await harness.close()


@pytest.fixture
def run(tmp_path: Path):
    """``field-server`` as the office runs it, in its own data directory: ``run(*args, ok=True)`` checks the exit
    status and returns the result."""
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, ["--data-dir", str(tmp_path), *args], catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output + result.stderr
        return result

    return invoke
