"""``field-server serve --workers N``: the app factory each uvicorn worker process calls.

The parent process (``server_stub.cli.serve``) puts the database URL and the ``Settings`` into one environment
variable as JSON before starting uvicorn's supervisor; every worker (started with ``spawn``, also the ones uvicorn
starts again after a crash or a SIGHUP) reads it, opens its own connection(s) to the shared database and builds
the same app. The database is closed when the worker's lifespan ends.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI

from server_stub.config import Settings

WORKER_CONFIG_ENV = "FIELD_SERVER_WORKER_CONFIG"


def worker_config(db_url: str, settings: Settings) -> str:
    """The JSON the parent puts in ``$FIELD_SERVER_WORKER_CONFIG``."""
    return orjson.dumps({"db": db_url, "settings": dataclasses.asdict(settings), "parent": os.getpid()}).decode()


def read_worker_config(text: str) -> tuple[str, Settings, int]:
    """The database URL, the settings and the supervisor's pid from ``worker_config``'s JSON."""
    data = orjson.loads(text)
    return str(data["db"]), Settings(**data["settings"]), int(data.get("parent", 0))


def exit_with_parent(parent: int) -> None:
    """On Linux, have the kernel send this worker SIGTERM (a graceful stop) when the supervisor dies, even by
    SIGKILL or a crash: an orphaned worker would keep the port and the database open with nobody to stop it."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if parent and os.getppid() != parent:  # it died before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def worker_app() -> FastAPI:
    """Called by uvicorn (``factory=True``) in each worker process."""
    from uvicorn.config import STARTUP_FAILURE

    from server_stub.app import create_app
    from server_stub.db import open_database

    # SIGHUP is the supervisor's (it replaces the workers one by one, each new one serving before the old one
    # stops); a closed terminal sends it to the whole process group, which must not cut requests in flight
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    text = os.environ.get(WORKER_CONFIG_ENV)
    if not text:
        print(f"field-server: ${WORKER_CONFIG_ENV} is not set (start workers with field-server serve)", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    db_url, settings, parent = read_worker_config(text)
    exit_with_parent(parent)
    try:
        db = open_database(db_url)
    except Exception as error:
        # The parent opened this database a moment before starting the workers, so this is a passing outage (a
        # worker started again after a crash while PostgreSQL restarts): exit 1 and the supervisor tries again,
        # while the other workers keep answering (503 database_unavailable until the database is back).
        print(f"field-server: worker {os.getpid()}: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(1)
    app = create_app(db, settings)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            db.close()

    app.router.lifespan_context = lifespan
    return app
