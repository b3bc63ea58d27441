"""Looking up one record on the town server: an old record that retention let go from the tablet (still kept on
the server, docs/SYNC.md "Retention on the tablet"). Read only: the record is shown, never stored or merged."""

from __future__ import annotations

from typing import Any

import httpx

from field_agent.sync.client import SyncClient
from field_agent.sync.errors import NotEnrolled
from field_agent.sync.store_view import SyncedStore


async def lookup_record(
    store: SyncedStore,
    record_id: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 15.0,
) -> dict[str, Any] | None:
    """The server's copy of ``record_id`` in this device's grid (an envelope), or None when it has none.

    Raises ``NotEnrolled``, ``Offline`` and the other ``SyncError``s as a sync does."""
    url, token = store.meta_get("server_url"), store.meta_get("token")
    if not url or not token:
        raise NotEnrolled("this device is not enrolled yet: run 'field-agent enroll URL CODE' first")
    async with SyncClient(
        url, token=token, transport=transport, pinned_cert=store.meta_get("pinned_cert"), timeout=timeout
    ) as client:
        return await client.get_record(record_id)
