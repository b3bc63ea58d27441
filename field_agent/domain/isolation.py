"""Home isolation: how long it lasts when a resident's record does not say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_ISOLATION_DAYS = 14
"""Days of home isolation when neither the resident's ``isolation_days`` nor the device's setting gives them."""


def followup_reached(followup: Mapping[str, Any]) -> bool:
    """Whether a day's follow-up reached the resident: contact was made, or a temperature was taken.

    One that did neither records an attempt (a call not answered, nobody at the door): it does not count as the
    day's check, so the resident stays due until someone gets through.
    """
    return bool(followup.get("contact_made")) or followup.get("temperature") is not None
