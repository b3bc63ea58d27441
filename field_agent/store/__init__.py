"""The encrypted, durable local store (sealed append-only log under TinyDB's document API)."""

from __future__ import annotations

from field_agent.store.errors import (
    HouseholdNotEmpty,
    OutboxError,
    RecordNotFound,
    StoreClosed,
    StoreCorrupted,
    StoreError,
    StoreExists,
    StoreLocked,
    StoreNotFound,
    StoreWriteFailed,
    WeakPassphrase,
    WrongPassphrase,
)
from field_agent.store.store import Store

__all__ = [
    "HouseholdNotEmpty",
    "OutboxError",
    "RecordNotFound",
    "Store",
    "StoreClosed",
    "StoreCorrupted",
    "StoreError",
    "StoreExists",
    "StoreLocked",
    "StoreNotFound",
    "StoreWriteFailed",
    "WeakPassphrase",
    "WrongPassphrase",
]
