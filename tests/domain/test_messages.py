"""The domain's messages: every one the rules give is in one registry (domain/messages.py), by key, with its
English text unchanged (what the server, the CLI and the logs show) and its parameters kept for the app."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter

import pytest

from field_agent.domain.errors import FieldError, IdNumberError, ModeSwitchError, PhoneError, ValidationError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.messages import MESSAGES, Message, msg
from field_agent.domain.phone import parse_phone
from field_agent.domain.roles import switch_mode
from field_agent.domain.validation import validate_record

DOMAIN = Path(__file__).resolve().parents[2] / "field_agent" / "domain"
KEY_LITERAL = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def _keys_named_in_the_domain() -> set[str]:
    named: set[str] = set()
    for path in DOMAIN.rglob("*.py"):
        if path.name == "messages.py":
            continue
        text = path.read_text(encoding="utf-8")
        named.update(key for key in KEY_LITERAL.findall(text) if key.split(".")[0] in _PREFIXES)
    return named


_PREFIXES = {key.split(".")[0] for key in MESSAGES}


def test_every_key_the_rules_name_is_registered_and_every_registered_key_is_used() -> None:
    named = _keys_named_in_the_domain()
    assert sorted(named - set(MESSAGES)) == []
    assert sorted(set(MESSAGES) - named) == []


def test_an_unregistered_key_is_refused() -> None:
    with pytest.raises(KeyError):
        msg("phone.no_such_rule")


def test_every_message_formats_with_its_placeholders() -> None:
    for key, text in MESSAGES.items():
        names = {name for _, name, _, _ in Formatter().parse(text) if name}
        assert str(Message(key, dict.fromkeys(names, 1))), key


@pytest.mark.parametrize(
    ("text", "key", "params", "english"),
    [
        ("138123456", "phone.mobile_digits", {"count": 9}, "mobile number must have 11 digits, not 9"),
        ("0591-123", "phone.landline_digits", {"count": 3}, None),
        ("", "phone.empty", {}, "phone number is empty"),
    ],
)
def test_a_phone_error_carries_key_params_and_the_english_text(text, key, params, english) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text)
    assert caught.value.key == key and dict(caught.value.params) == params
    if english:
        assert str(caught.value) == english


def test_an_id_number_error_keeps_its_reason_and_gains_a_key() -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number("12345")
    assert caught.value.reason == "length" and caught.value.key == "id.length"
    assert str(caught.value) == "ID number must be 18 characters, not 5"
    with pytest.raises(IdNumberError) as old:
        parse_id_number("350181500101123")
    assert old.value.key == "id.length_old" and "old format" in str(old.value)


def test_field_errors_carry_the_key_and_nested_problems() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(
            "resident",
            {"household": "0193a1b2-0000-7000-8000-000000000001", "name": "x", "id_number": "1", "phone": "123"},
        )
    by_field = {error.field: error for error in caught.value.errors}
    phone = by_field["phone"]
    assert (phone.key, dict(phone.params)) == ("phone.mobile_digits", {"count": 3})
    assert phone.message == "mobile number must have 11 digits, not 3"
    assert by_field["residency"].key == "record.required"
    assert by_field["id_number"].key == "id.length"
    with pytest.raises(ValidationError) as members:
        validate_record(
            "grid",
            {"town": "t", "community": "c", "name": "n", "mode": "normal", "members": [{"name": "a", "phone": "123"}]},
        )
    error = members.value.errors[0]
    assert error.key == "members.phone" and error.params["problem"] == Message("phone.mobile_digits", {"count": 3})
    assert error.message == "member 1: mobile number must have 11 digits, not 3"


def test_field_errors_compare_by_field_and_message_as_before() -> None:
    keyed = FieldError.of("residency", msg("enum.choice", choices="resident, floating, away"))
    assert keyed == FieldError("residency", "must be one of resident, floating, away")
    assert keyed.detail == Message("enum.choice", {"choices": "resident, floating, away"})
    assert FieldError("x", "plain").detail is None


def test_a_mode_switch_error_is_keyed() -> None:
    with pytest.raises(ModeSwitchError) as caught:
        switch_mode({"name": "第一网格", "mode": "normal", "members": []}, [], "normal")
    assert caught.value.key == "mode.already" and str(caught.value) == "grid 第一网格 is already in normal mode"


def test_every_message_the_domain_can_give_is_in_both_catalogs() -> None:
    """Every key of the registry has an entry in the domain's catalogs (``field_agent/domain/i18n``), in Chinese and
    English, naming only parameters the rule gives; the catalogs hold no other key."""
    from field_agent.domain.i18n import LANGUAGES, domain_catalog

    for language in LANGUAGES:
        catalog = domain_catalog(language)
        assert sorted(set(MESSAGES) - set(catalog)) == [], language
        assert sorted(set(catalog) - set(MESSAGES)) == [], language
        for key, english in MESSAGES.items():
            given = {name for _, name, _, _ in Formatter().parse(english) if name}
            used = {name for _, name, _, _ in Formatter().parse(catalog[key]) if name}
            assert used <= given, (language, key)


def test_a_domain_message_is_said_in_chinese_or_english_with_its_inner_messages_too() -> None:
    from field_agent.domain.i18n import say

    inner = msg("enum.choice", choices="chronic, disabled")
    outer = msg("value.element", position=2, problem=inner)
    assert say(msg("phone.mobile_digits", count=9), "zh_CN") == "手机号应为 11 位数字，现在是 9 位"
    assert say(msg("phone.mobile_digits", count=9), "en") == "mobile number must have 11 digits, not 9"
    chinese = say(outer, "zh_CN")
    assert "2" in chinese and not re.search(r"[A-Za-z]{4,}", chinese.replace("chronic", "").replace("disabled", ""))
