"""How many ID numbers and phone numbers fit what a masked output shows of one person: an attacker's count.

The attacker knows the town's region code, the export date, and every column of the row: the masked number, sex,
age, a birth date if one is shown, and the special groups (80岁以上高龄, 60岁以上老人 and 婴幼儿 follow from the
age). They enumerate every birth date and order code that agrees with all of it and keep those whose check
character matches the one shown. Nothing here trusts the code under test: the weights and check characters are
the standard's (GB 11643-1999), and the age and group rules are restated from the domain's documentation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST = dt.date(1900, 1, 1)
THRESHOLD = 1_000

# Age-derived groups (docs/DOMAIN.md): 60-79 elderly, 80+ very old (only), under 3 infant; their ledger labels.
AGE_GROUP_LABELS = {"elderly": "60岁以上老人", "very_old": "80岁以上高龄", "infant": "婴幼儿"}


def _age(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _age_groups(age: int) -> set[str]:
    """The age groups an output shows: one each, the most specific (80 or over is 高龄 only, issue 16 item 11)."""
    found = set()
    if age >= 80:
        found.add("very_old")
    elif age >= 60:
        found.add("elderly")
    if age < 3:
        found.add("infant")
    return found


def _matches(shown: str, digits: str) -> bool:
    return all(s in ("*", d) for s, d in zip(shown, digits, strict=True))


def _candidate_dates(
    shown_date: str, today: dt.date, *, age: int | None, birth: dt.date | None, groups: set[str] | None
) -> Iterator[dt.date]:
    """Birth dates consistent with the masked digits 7-14 and the row's columns, youngest first."""
    if birth is not None:
        first = last = birth
    elif age is not None:
        # a few days' margin either side of the year; the exact age rule below decides
        first = max(EARLIEST, _shift_years(today, -(age + 1)) - dt.timedelta(days=3))
        last = _shift_years(today, -age) + dt.timedelta(days=3)
    else:
        first, last = EARLIEST, today
    if groups and groups & {"elderly", "very_old"}:  # skip the decades the age groups rule out (the rule below decides)
        last = min(last, _shift_years(today, -(80 if "very_old" in groups else 60)) + dt.timedelta(days=3))
    day = min(last, today)
    while day >= first:
        ok = _matches(shown_date, f"{day:%Y%m%d}")
        if ok and age is not None:
            ok = _age(day, today) == age
        if ok and groups is not None:
            ok = _age_groups(_age(day, today)) == groups
        if ok:
            yield day
        day -= dt.timedelta(days=1)


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def id_candidates(
    masked: str,
    *,
    today: dt.date,
    region: str,
    sex: str | None = None,
    age: int | None = None,
    birth: dt.date | None = None,
    groups: set[str] | None = None,
    stop_at: int | None = None,
) -> int:
    """The number of valid ID numbers that fit ``masked`` (``*`` for each hidden character) and the row.

    ``region`` is the town's, used when the masked number hides its own; ``groups`` the age groups the row shows
    (None when it shows no groups column). With ``stop_at`` the count stops once it reaches that number.
    """
    assert len(masked) == 18, masked
    shown_region = masked[:6]
    regions = [shown_region] if "*" not in shown_region else [region]
    orders = [
        f"{n:03d}"
        for n in range(1000)
        if _matches(masked[14:17], f"{n:03d}") and (sex is None or (n % 2 == 1) == (sex == "male"))
    ]
    # how many order codes add each residue (mod 11) to the weighted sum
    by_residue = [0] * 11
    for order in orders:
        by_residue[sum(int(d) * w for d, w in zip(order, WEIGHTS[14:], strict=True)) % 11] += 1
    total = 0
    for place in regions:
        if not _matches(masked[:6], place):
            continue
        head = sum(int(d) * w for d, w in zip(place, WEIGHTS[:6], strict=True))
        for day in _candidate_dates(masked[6:14], today, age=age, birth=birth, groups=groups):
            partial = (head + sum(int(d) * w for d, w in zip(f"{day:%Y%m%d}", WEIGHTS[6:14], strict=True))) % 11
            if masked[17] == "*":
                total += len(orders)
            else:
                wanted = CHECK_CHARS.index(masked[17])
                total += by_residue[(wanted - partial) % 11]
            if stop_at is not None and total >= stop_at:
                return total
    return total


# --- phones -------------------------------------------------------------------------------------------------------
#
# A Chinese mobile number is a 3-digit network prefix, a 4-digit home-area block (the HLR code) and 4 subscriber
# digits. Public number-segment tables map each prefix+block to a prefecture, so an attacker who knows the town
# needs to try only that prefecture's blocks. We credit them with knowing it down to BLOCKS_PER_PREFIX blocks of
# each prefix (a prefecture of several million people holds hundreds to thousands of blocks across ~40 prefixes;
# the smaller per-prefix figure favours the attacker). A landline's first digits name its local exchange, of which
# a town has a handful: EXCHANGES_PER_TOWN. The model counts only what the mask leaves to guess beyond that.

MOBILE_PREFIXES_IN_USE = 40
BLOCKS_PER_PREFIX = 25
EXCHANGES_PER_TOWN = 10


def phone_candidates(masked: str) -> int:
    """The number of phone numbers that fit a masked phone, for an attacker who knows the town."""
    if re.fullmatch(r"[0-9*]{11}", masked) and masked[0] in "1*":
        prefixes = 1 if "*" not in masked[:3] else MOBILE_PREFIXES_IN_USE
        blocks = BLOCKS_PER_PREFIX if masked[3:7] == "****" else 1
        return prefixes * blocks * 10 ** masked[7:].count("*")
    landline = re.fullmatch(r"(0\d{2,3})-([0-9*]{7,8})", masked)
    if landline:
        number = landline.group(2)
        exchange = 4 if len(number) == 8 else 3
        exchanges = 1 if "*" not in number[:exchange] else EXCHANGES_PER_TOWN
        return exchanges * 10 ** number[exchange:].count("*")
    assert set(masked) <= {"*"}, f"unrecognised masked phone {masked!r}"
    return 10**7


def groups_of(label_text: str) -> set[str]:
    """The age groups a special-groups cell names."""
    return {key for key, label in AGE_GROUP_LABELS.items() if label in label_text}


def row_id_candidates(row: Mapping[str, str], today: dt.date, region: str, *, stop_at: int | None = None) -> int | None:
    """Candidates for the ID number in one parsed row keyed by Chinese header; None when the row shows no ID."""
    masked = row.get("公民身份号码") or ""
    if not masked:
        return None
    sex = {"男": "male", "女": "female"}.get(row.get("性别") or "")
    age_text = str(row.get("年龄") or "")
    birth_text = str(row.get("出生日期") or "")
    groups_text = row.get("特殊人群", row.get("人群类别"))
    return id_candidates(
        masked,
        today=today,
        region=region,
        sex=sex,
        age=int(age_text) if age_text.isdigit() else None,
        birth=dt.date.fromisoformat(birth_text[:10]) if re.fullmatch(r"\d{4}-\d\d-\d\d", birth_text[:10]) else None,
        groups=groups_of(groups_text) if groups_text is not None else None,
        stop_at=stop_at,
    )
