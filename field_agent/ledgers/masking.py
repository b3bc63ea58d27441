"""What a masked output shows of a person: ID numbers and phones through the domain's masks, wherever they appear.

The masks themselves are the domain's (``mask_id_number``, ``mask_phone``); this module applies them to ledger
cells and to records printed by the tablet's command line, and withholds what would undo them: a birth date shown
beside a masked ID number gives back all but its last digits (docs/LEDGERS.md, "Masking").
"""

from __future__ import annotations

import re
from typing import Any

from field_agent.domain.idnumber import mask_id_number
from field_agent.domain.phone import mask_phone

ID_FIELDS = frozenset({"id_number"})
PHONE_FIELDS = frozenset({"phone", "phone2", "household_phone"})
# Fields a masked output never shows, with what it shows instead.
WITHHELD = {"birth_date": "****-**-**"}

# A number written into free text (notes, reasons): not inside a longer run of letters, digits or dashes, so record
# ids (UUIDs) never match.
_EDGE_BEFORE = r"(?<![0-9A-Za-z-])"
_EDGE_AFTER = r"(?![0-9A-Za-z-])"
_ID_IN_TEXT = re.compile(_EDGE_BEFORE + r"(\d{17}[\dXx]|\d{15})" + _EDGE_AFTER)
_PHONE_IN_TEXT = re.compile(_EDGE_BEFORE + r"(1[3-9]\d{9}|0\d{2,3}-?[2-9]\d{6,7})" + _EDGE_AFTER)
_SEVEN_DIGITS = re.compile(r"\d{7}")  # every number above has a run this long; most text has none


def mask_kind(field: str, declared: str | None = None) -> str | None:
    """Which mask a field takes: the one a ledger column declares, else by the field's name."""
    if declared:
        return declared
    if field in ID_FIELDS:
        return "id_number"
    if field in PHONE_FIELDS:
        return "phone"
    return None


def mask_value(value: str, kind: str) -> str:
    """An ID number or a phone number, masked; empty stays empty."""
    if not value:
        return ""
    return mask_id_number(value) if kind == "id_number" else mask_phone(value)


def mask_numbers_in_text(text: str) -> str:
    """Free text with every ID number and phone number written in it masked."""
    if _SEVEN_DIGITS.search(text) is None:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(1)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)), text)


def mask_record(data: Any) -> Any:
    """A record's view or envelope with ID numbers, phones and birth dates masked at any depth (conflicting
    values included), and numbers written in its free text masked too."""
    if isinstance(data, dict):
        masked = {}
        for key, value in data.items():
            kind = mask_kind(key) if isinstance(key, str) else None
            if key == "stamps":  # an envelope's HLC stamps, keyed by field name: no personal data
                masked[key] = value
            elif kind and isinstance(value, str):
                masked[key] = mask_value(value, kind)
            elif key in WITHHELD and value:
                masked[key] = WITHHELD[key]
            else:
                masked[key] = mask_record(value)
        return masked
    if isinstance(data, list | tuple):
        return [mask_record(item) for item in data]
    if isinstance(data, str):
        return mask_numbers_in_text(data)
    return data
