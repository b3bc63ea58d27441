"""A ledger cell's value and how it reads as text: dates and times as the town office writes them, coverage as a
percentage. The builder keeps typed values (``date``, aware ``datetime`` in town time, ``int``, ``float``); the
.xlsx writer stores them as real dates and numbers with display formats, the .csv writer and screens as this text.
"""

from __future__ import annotations

import datetime as dt

Cell = str | int | float | dt.date | dt.datetime
"""What a built ledger holds in one cell (``datetime`` is a ``date`` too: test it first)."""

PERCENT = "percent"
"""A column format (``"format": "percent"`` in ledgers.json): a fraction shown as ``59.7%``."""

DATE_TEXT = "%Y-%m-%d"
DATETIME_TEXT = "%Y-%m-%d %H:%M"
XLSX_DATE = "yyyy-mm-dd"
XLSX_DATETIME = "yyyy-mm-dd hh:mm"
XLSX_PERCENT = "0.0%"


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cell_text(value: Cell | None, column_format: str | None = None) -> str:
    """A cell as the town office reads it: ``2026-12-05``, ``2026-12-05 09:30`` (town time), ``59.7%``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(DATETIME_TEXT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_TEXT)
    if column_format == PERCENT and is_number(value):
        return f"{value:.1%}"
    return str(value)
