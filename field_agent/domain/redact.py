"""Values quoted in error messages, with the digits of ID numbers and phone numbers masked.

Error messages travel: into roster-import reports, refusal reasons the server keeps, logs and terminals. A value
quoted back to the worker keeps enough to find it (its shape, first and last digits) but never a whole ID number
or phone number.
"""

from __future__ import annotations

import re
from typing import Any

_DIGIT_RUN = re.compile(r"\d{5,}")
MAX_QUOTED = 40


def _mask_run(match: re.Match[str]) -> str:
    digits = match.group()
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def redact_text(text: str) -> str:
    """``text`` with every run of five or more digits masked in the middle, cut to a readable length."""
    masked = _DIGIT_RUN.sub(_mask_run, text)
    return masked if len(masked) <= MAX_QUOTED else masked[: MAX_QUOTED - 1] + "…"


def redact(value: Any) -> str:
    """A repr of ``value`` for an error message, masked like :func:`redact_text`."""
    return redact_text(repr(value))
