"""Chinese phone numbers: mobiles (11 digits, 1[3-9]…) and landlines with their area code; masking."""

from __future__ import annotations

import re
from dataclasses import dataclass

from field_agent.domain.errors import PhoneError
from field_agent.domain.messages import msg

_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)[\s-]*")
_EXTENSION_MARK = re.compile(r"^(.*?)\s*(?:转|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_THREE_DIGIT_AREA = re.compile(r"^(010|02\d)$")
_FOUR_DIGIT_AREA = re.compile(r"^0[3-9]\d\d$")


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid phone number in canonical form: ``13812345678``, ``0591-87654321``, ``0591-87654321-802``."""

    number: str
    kind: str  # "mobile" | "landline"


def parse_phone(text: str) -> Phone:
    """Check a phone number and return its canonical form; raise PhoneError naming the problem."""
    if not isinstance(text, str):
        raise PhoneError(msg("phone.not_text", type=type(text).__name__))
    raw = text.strip()
    if not raw:
        raise PhoneError(msg("phone.empty"))
    body = _COUNTRY_PREFIX.sub("", raw)
    stripped = re.sub(r"[\s-]", "", body)
    if stripped.startswith("1"):
        return Phone(_mobile(stripped), "mobile")
    if not stripped.startswith("0"):
        if stripped.isdigit() and len(stripped) in (7, 8):
            raise PhoneError(msg("phone.area_missing"))
        _check_characters(body)
        raise PhoneError(msg("phone.start"))
    return Phone(_landline(body), "landline")


def _check_characters(body: str) -> None:
    if re.search(r"[^0-9\s-]", body):
        raise PhoneError(msg("phone.characters"))


def _mobile(digits: str) -> str:
    if not digits.isdigit() or not digits.isascii():
        raise PhoneError(msg("phone.mobile_characters"))
    if len(digits) != 11:
        raise PhoneError(msg("phone.mobile_digits", count=len(digits)))
    if digits[1] not in "3456789":
        raise PhoneError(msg("phone.mobile_prefix"))
    return digits


def _landline(body: str) -> str:
    extension = ""
    marked = _EXTENSION_MARK.match(body)
    if marked:
        body, extension = marked.group(1), marked.group(2)
    _check_characters(body)
    parts = [p for p in re.split(r"[\s-]+", body.strip()) if p]
    if len(parts) >= 2:
        area, rest = parts[0], parts[1:]
        _check_area(area)
    else:
        split = _split_area(parts[0])
        if split is None:
            raise PhoneError(msg("phone.area"))
        area, rest = split[0], [split[1]]
    # "0591-87654321-802": a last group after a complete 7-8 digit number is an extension
    if not extension and len(rest) >= 2 and len("".join(rest[:-1])) in (7, 8) and len(rest[-1]) <= 6:
        extension, rest = rest[-1], rest[:-1]
    number = "".join(rest)
    if len(number) not in (7, 8):
        raise PhoneError(msg("phone.landline_digits", count=len(number)))
    if number[0] in "01":
        raise PhoneError(msg("phone.landline_start"))
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def _check_area(area: str) -> None:
    if not (_THREE_DIGIT_AREA.match(area) or _FOUR_DIGIT_AREA.match(area)):
        raise PhoneError(msg("phone.area_group"))


def _split_area(digits: str) -> tuple[str, str] | None:
    if _THREE_DIGIT_AREA.match(digits[:3]):
        return digits[:3], digits[3:]
    if _FOUR_DIGIT_AREA.match(digits[:4]):
        return digits[:4], digits[4:]
    return None


def is_valid_phone(text: str) -> bool:
    try:
        parse_phone(text)
    except PhoneError:
        return False
    return True


def normalize_phone(text: str) -> str:
    """The canonical form of a valid phone number (raises PhoneError otherwise)."""
    return parse_phone(text).number


def mask_phone(text: str) -> str:
    """Hide a phone number: a mobile shows its last 4 digits (``*******5678``), a landline only its area code
    (``0591-********``), anything unreadable nothing.

    A mobile's first 7 digits (network prefix and home-area block) and a landline's first digits (the local
    exchange) follow from where the owner lives, so whoever knows the town could fill them in: shown beside the
    last 4 they would leave a few dozen candidates (docs/LEDGERS.md, "Masking").
    """
    try:
        phone = parse_phone(text)
    except PhoneError:
        return "*" * len(str(text))
    if phone.kind == "mobile":
        return "*" * 7 + phone.number[-4:]
    area, number = phone.number.split("-")[:2]
    return f"{area}-" + "*" * len(number)
