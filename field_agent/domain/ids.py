"""Record ids made on the device: UUIDv7, time-ordered so new records sort last."""

from __future__ import annotations

import secrets

import uuid6


def new_id() -> str:
    """A fresh UUIDv7 as its canonical 36-character string."""
    return str(uuid6.uuid7())


def new_node_id() -> str:
    """A random 12-hex-digit node id for a device's hybrid logical clock."""
    return secrets.token_hex(6)
