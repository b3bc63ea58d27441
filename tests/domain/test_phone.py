"""Phone numbers: mobiles, landlines with area codes, specific errors, masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.errors import PhoneError
from field_agent.domain.phone import is_valid_phone, mask_phone, normalize_phone, parse_phone


@given(st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))
def test_every_mobile_starting_13_to_19_is_valid(second, rest) -> None:
    number = "1" + second + rest
    phone = parse_phone(number)
    assert (phone.number, phone.kind) == (number, "mobile")
    assert mask_phone(number) == "*******" + number[-4:]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0591-87654321", "0591-87654321"),
        ("0591 8765 4321", "0591-87654321"),
        ("059187654321", "0591-87654321"),
        ("0591-8765432", "0591-8765432"),
        ("0591-87654321-802", "0591-87654321-802"),
        ("0591-87654321 转 802", "0591-87654321-802"),
        ("0591-87654321 ext. 9", "0591-87654321-9"),
        ("010-62345678", "010-62345678"),
        ("02187654321", "021-87654321"),
    ],
)
def test_accepted_forms_and_their_canonical_form(text, canonical) -> None:
    assert normalize_phone(text) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1381234567", "mobile number must have 11 digits, not 10"),
        ("138123456789", "mobile number must have 11 digits, not 12"),
        ("12812345678", "mobile number must start with 13 to 19"),
        ("87654321", "a landline number needs its area code in front (e.g. 0591 for Fuqing)"),
        ("0123-87654321", "first group is not a Chinese area code"),
        ("0591-123456", "must have 7 or 8 digits, not 6"),
        ("0591-012345678", "must have 7 or 8 digits, not 9"),
        ("0591-01234567", "cannot start with 0"),
        ("0591-8765432a", "may hold only digits, spaces and '-'"),
        ("phone", "may hold only digits, spaces and '-'"),
        ("", "phone number is empty"),
        ("55555", "must be a mobile (starting 1) or a landline with area code (starting 0)"),
    ],
)
def test_rejections_say_what_is_wrong(text, message) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text)
    assert message in str(caught.value)
    assert not is_valid_phone(text)
    if any(char.isdigit() for char in text):
        assert text not in str(caught.value)  # the rule, never the number


def test_non_text_is_rejected() -> None:
    with pytest.raises(PhoneError, match="must be text"):
        parse_phone(13812345678)  # type: ignore[arg-type]


def test_masking_landlines_and_bad_numbers() -> None:
    # a landline's first digits name the town's exchange, so none of its digits are shown
    assert mask_phone("0591-87654321") == "0591-********"
    assert mask_phone("0591-87654321-802") == "0591-********"
    assert mask_phone("010 6123456") == "010-*******"
    # a mobile's prefix and block follow from where its owner lives: only the last four are shown
    assert mask_phone("+86 138 1234 5678") == "*******5678"
    assert mask_phone("12345678901") == "***********"  # not a phone number: nothing shown
    assert mask_phone("123") == "***"


@given(st.text(max_size=20) | st.text("0123456789 -+转", max_size=20))
def test_any_text_is_parsed_or_refused_never_crashes(text) -> None:
    try:
        phone = parse_phone(text)
    except PhoneError as error:
        assert str(error)
    else:
        assert parse_phone(phone.number) == phone
    assert isinstance(mask_phone(text), str)


@pytest.mark.parametrize("text", ["87654321", "138123456789", "1381234567x", "23812345678", "０591-87654321"])
def test_rejections_never_quote_the_whole_number(text) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text)
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    assert digits not in str(caught.value)
