"""Resident ID numbers (GB 11643-1999): validation with the reason, derived birth date/age/sex, masking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from field_agent.domain.errors import IdNumberError
from field_agent.domain.messages import msg

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)

# First two digits of the region code: provinces, Taiwan (71), Hong Kong (81), Macao (82), residence permits
# of Taiwan residents (83) and the 2023 foreign permanent residence card (9x).
_PROVINCES = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83"
PROVINCE_CODES = frozenset(_PROVINCES.split())
_BAD_CHAR = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid ID number and what it says about its holder."""

    number: str
    region: str
    birth_date: date
    order: int
    sex: str

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def normalize_id_number(text: str) -> str:
    """Strip surrounding spaces and write a lowercase check character ``x`` as ``X``."""
    number = text.strip()
    return number[:-1] + "X" if number.endswith("x") else number


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(text: str, today: date | None = None) -> IdNumber:
    """Check an ID number and derive what it holds; raise IdNumberError naming the first problem found."""
    if not isinstance(text, str):
        raise IdNumberError(msg("id.not_text", type=type(text).__name__), "characters")
    number = normalize_id_number(text)
    if len(number) != 18:
        key = "id.length_old" if len(number) == 15 else "id.length"
        raise IdNumberError(msg(key, count=len(number)), "length")
    bad = _BAD_CHAR.search(number[:17])
    if bad is None and not (number[17].isdigit() and number[17].isascii()) and number[17] != "X":
        bad_position = 18
    elif bad is not None:
        bad_position = bad.start() + 1
    else:
        bad_position = 0
    if bad_position:
        raise IdNumberError(msg("id.characters", position=bad_position), "characters")
    region = number[:6]
    if region[:2] not in PROVINCE_CODES and region[0] != "9":
        raise IdNumberError(msg("id.region"), "region")
    birth = _birth_date(number[6:14], today or date.today())
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise IdNumberError(msg("id.check_digit"), "check_digit")
    order = int(number[14:17])
    return IdNumber(number, region, birth, order, "male" if order % 2 else "female")


def _birth_date(digits: str, today: date) -> date:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise IdNumberError(msg("id.date_unreal"), "date") from None
    if birth > today:
        raise IdNumberError(msg("id.date_future"), "date")
    if birth < EARLIEST_BIRTH:
        raise IdNumberError(msg("id.date_early"), "date")
    return birth


def is_valid_id_number(text: str, today: date | None = None) -> bool:
    try:
        parse_id_number(text, today)
    except IdNumberError:
        return False
    return True


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day``; someone born on 29 February ages on 1 March in common years."""
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - before_birthday


SHOWN_REGION = 6  # a masked ID number shows its region code
SHOWN_TAIL = 2  # and its last 2 characters: the sex digit and the check character


def mask_id_number(text: str) -> str:
    """Show the region (first 6) and the last 2 characters only, e.g. ``350181**********3X``.

    Every masked output shows this, never more: the birth date (characters 7–14) and the first two digits of the
    order code stay hidden, so with the age and sex shown beside it a number still has thousands of candidates
    (docs/LEDGERS.md, "Masking"). The order code's last digit (sex) and the check character are what is left.
    """
    number = normalize_id_number(text) if isinstance(text, str) else ""
    if len(number) < 12:
        return "*" * len(number)
    return number[:SHOWN_REGION] + "*" * (len(number) - SHOWN_REGION - SHOWN_TAIL) + number[-SHOWN_TAIL:]


def make_id_number(region: str, birth_date: date, sequence: int, sex: str) -> str:
    """Build a valid ID number; ``sequence`` (0–499) picks the order code, whose parity encodes ``sex``."""
    if not re.fullmatch(r"\d{6}", region):
        raise IdNumberError(msg("id.make_region"), "region")
    if not 0 <= sequence <= 499:
        raise IdNumberError(msg("id.make_sequence"), "characters")
    if sex not in ("male", "female"):
        raise IdNumberError(msg("id.make_sex"), "characters")
    order = sequence * 2 + (1 if sex == "male" else 0)
    first17 = f"{region}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)
