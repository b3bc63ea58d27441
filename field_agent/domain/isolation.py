"""Home isolation: how long it lasts when a resident's record does not say."""

from __future__ import annotations

DEFAULT_ISOLATION_DAYS = 14
"""Days of home isolation when neither the resident's ``isolation_days`` nor the device's setting gives them."""
