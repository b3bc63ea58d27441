"""The town server: enrolment, device auth, grid-scoped push/pull with server-side merge, admin commands."""

from __future__ import annotations

__version__ = "0.1.0"
