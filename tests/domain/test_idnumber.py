"""Resident ID numbers: check digit, birth date, region, derived facts and masking."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.errors import DomainError, IdNumberError
from field_agent.domain.idnumber import (
    PROVINCE_CODES,
    age_on,
    check_digit,
    is_valid_id_number,
    make_id_number,
    mask_id_number,
    parse_id_number,
)

TODAY = date(2026, 11, 30)

regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text("0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["male", "female"])
valid_numbers = st.builds(make_id_number, regions, births, st.integers(0, 499), sexes)


@given(regions, births, st.integers(0, 499), sexes)
def test_every_made_number_is_valid_and_derives_birth_date_and_sex(region, birth, sequence, sex) -> None:
    number = make_id_number(region, birth, sequence, sex)
    holder = parse_id_number(number, TODAY)
    assert holder.number == number
    assert holder.region == region
    assert holder.birth_date == birth
    assert holder.sex == sex
    assert (int(number[16]) % 2 == 1) == (sex == "male")


@given(valid_numbers, st.integers(0, 17), st.sampled_from(list("0123456789Xx Aa-一")))
def test_every_single_character_change_is_rejected(number, position, replacement) -> None:
    if replacement.upper() == number[position]:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdNumberError):
        parse_id_number(changed, TODAY)


@given(valid_numbers)
def test_lowercase_x_is_accepted_as_upper(number) -> None:
    assert parse_id_number(number.lower(), TODAY).number == number


def test_known_number() -> None:
    # 11010519491231002X: the example number of GB 11643-1999
    holder = parse_id_number("11010519491231002x", TODAY)
    assert holder.number == "11010519491231002X"
    assert holder.birth_date == date(1949, 12, 31)
    assert holder.sex == "female"
    assert holder.age_on(TODAY) == 76


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("35018119900101123", "length", "must be 18 characters, not 17"),
        ("350181900101123", "length", "15-digit numbers are the old format"),
        ("", "length", "not 0"),
        ("3501811990010112A4", "characters", "character 17 is not one"),
        ("35018119900１011234", "characters", "character 12 is not one"),
        ("X50181199001011234", "characters", "character 1 is not one"),
        ("00018119900101123X", "region", "first two digits are a province code"),
        ("350181199013011234", "date", "birth date in characters 7-14 is not a real date"),
        ("350181199002301234", "date", "birth date in characters 7-14 is not a real date"),
        ("350181203001011234", "date", "birth date in characters 7-14 is in the future"),
        ("350181189912311234", "date", "birth date in characters 7-14 is before 1900"),
    ],
)
def test_rejections_name_the_reason(text, reason, message) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(text, TODAY)
    assert caught.value.reason == reason
    assert message in str(caught.value)
    # the rule, never the number: no run of its digits is quoted back
    assert not re.search(r"\d{5}", str(caught.value))


def test_bad_check_digit_says_which_character_is_wrong_not_what_it_should_be() -> None:
    good = make_id_number("350181", date(1990, 1, 1), 123, "male")
    wrong = "5" if good[-1] != "5" else "6"
    with pytest.raises(IdNumberError, match=r"check digit \(the last character\) does not match") as caught:
        parse_id_number(good[:-1] + wrong, TODAY)
    assert caught.value.reason == "check_digit"
    assert isinstance(caught.value, DomainError)


def test_check_digit_ten_is_x() -> None:
    first17 = next(f"35018119900101{n:03d}" for n in range(1000) if check_digit(f"35018119900101{n:03d}") == "X")
    assert parse_id_number(first17 + "X", TODAY).number.endswith("X")
    assert not is_valid_id_number(first17 + "0", TODAY)


def test_born_today_is_valid_and_tomorrow_is_not() -> None:
    assert parse_id_number(make_id_number("350181", TODAY, 1, "female"), TODAY).age_on(TODAY) == 0
    tomorrow = date(2026, 12, 1)
    assert not is_valid_id_number(make_id_number("350181", tomorrow, 1, "female"), TODAY)


def test_non_text_is_rejected() -> None:
    with pytest.raises(IdNumberError, match="must be text"):
        parse_id_number(350181199001011234, TODAY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1966, 11, 30), TODAY, 60),
        (date(1966, 12, 1), TODAY, 59),
        (date(2000, 2, 29), date(2025, 2, 28), 24),
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
    ],
)
def test_age_counts_completed_years(birth, day, age) -> None:
    assert age_on(birth, day) == age


def test_masking_keeps_region_and_last_two() -> None:
    # the birth date and the first two order digits are hidden: with age and sex beside it, thousands remain
    assert mask_id_number("350181199001011234") == "350181**********34"
    assert mask_id_number("11010519491231002x") == "110105**********2X"
    assert mask_id_number(" 350181199001011234 ") == "350181**********34"
    assert mask_id_number("350181900101123") == "350181*******23"  # the old 15-digit form
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("35018", date(1990, 1, 1), 1, "male"), "region code must be 6 digits"),
        (("350181", date(1990, 1, 1), 500, "male"), "between 0 and 499"),
        (("350181", date(1990, 1, 1), 1, "other"), "'male' or 'female'"),
    ],
)
def test_make_id_number_refuses_bad_parts(args, message) -> None:
    with pytest.raises(IdNumberError, match=message):
        make_id_number(*args)


@given(st.text(max_size=25) | st.text("0123456789Xx", min_size=18, max_size=18))
def test_any_text_is_parsed_or_refused_with_a_reason(text) -> None:
    try:
        holder = parse_id_number(text, TODAY)
    except IdNumberError as error:
        assert error.reason in ("length", "characters", "region", "date", "check_digit")
    else:
        assert make_id_number(holder.region, holder.birth_date, holder.order // 2, holder.sex) == holder.number
    assert len(mask_id_number(text)) == len(text.strip())
