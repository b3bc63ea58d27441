"""First run with a town server: a new store, enrolled with a one-time code, then filled by a first sync.

The app never speaks HTTP itself: enrolment is ``field_agent.sync.enroll.enroll`` and the first sync is the sync
agent, both passed in (tests give them an in-process transport to the real server app).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from field_agent.store import Store
from field_agent.tui.session import Session

if TYPE_CHECKING:  # the sync agent (and its HTTP client) is imported when a sync starts, not with the app
    from field_agent.sync.agent import SyncAgent, SyncProgress, SyncResult

EnrollFunction = Callable[[Store, str, str], Awaitable[object]]
"""``enroll(store, server_url, code)``: trades the code for device credentials kept inside the store."""
AgentFactory = Callable[[Store], "SyncAgent"]
"""Builds the sync agent of a store (``SyncAgent`` by default)."""


async def enrol_new_store(
    path: Path,
    passphrase: str,
    server_url: str,
    code: str,
    *,
    enroll_with: EnrollFunction,
    agent_factory: AgentFactory,
    on_progress: Callable[[SyncProgress], None],
    now: Callable[[], datetime],
) -> tuple[Session, SyncResult]:
    """Create the store, enrol it, run the first sync; return the open session and how that sync went.

    When enrolment fails (wrong code, offline, certificate mismatch) the just-created store is removed again, so
    the next try starts from a clean first run; a failed first sync keeps the enrolled store (sync again later).
    """
    path = Path(path)
    existed = path.exists()
    store = await asyncio.to_thread(Store.create, path, passphrase)
    try:
        await enroll_with(store, server_url.strip(), code.strip())
    except BaseException:
        await asyncio.to_thread(_discard, store, path, existed)
        raise
    result = await agent_factory(store).sync(on_progress=on_progress)
    return Session(store, now), result


def _discard(store: Store, path: Path, existed: bool) -> None:
    """Close and remove a store that was created a moment ago and holds no records yet."""
    store.close()
    if not existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
