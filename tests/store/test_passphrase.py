"""The strength estimate behind the passphrase policy: zxcvbn taught pinyin names, dates, phone and ID numbers."""

from __future__ import annotations

import pytest

from field_agent.store import WeakPassphrase
from field_agent.store.passphrase import MIN_GUESSES_LOG10, check_passphrase, estimate_guesses
from field_agent.store.passphrase_words import keyboard_walks, name_dictionary, number_fragments


@pytest.mark.parametrize(
    ("passphrase", "parts"),
    [
        ("P@ssw0rd1234", ["common"]),
        ("Aa123456789!", ["common"]),
        ("1qaz2wsx3edc4rfv", ["common"]),
        ("zhangsan1988", ["name", "year"]),
        ("lifeng19880715", ["name", "date"]),
        ("Zhang@1988715", ["name", "date"]),
        ("wangxiuying880715", ["name", "date"]),  # six-digit birth date, two-syllable given name
        ("Li Fang 1988-07-15", ["name", "date"]),  # spaces and separators do not help
        ("lifeng13812345678", ["name", "phone"]),
        ("chenjing350181199001011234", ["name", "id_number"]),
        ("张伟19880715", ["name", "date"]),  # Chinese characters are scored as the pinyin they are typed as
        ("poiuytlkjhg2024", ["keyboard"]),  # two straight keyboard runs and a year
        ("mju7nhy6bgt5", ["keyboard"]),  # a bent walk
    ],
)
def test_dictionary_passphrases_are_refused_with_what_they_are_made_of(passphrase: str, parts: list[str]) -> None:
    with pytest.raises(WeakPassphrase) as refused:
        check_passphrase(passphrase)
    error = refused.value
    assert error.code == "guessable"
    assert set(parts) <= set(error.params["parts"]), error.params
    assert error.params["exponent"] < MIN_GUESSES_LOG10 == error.params["needed"]
    assert passphrase not in str(error)


@pytest.mark.parametrize(
    "passphrase",
    [
        "玉屏街道东门社区的老槐树下午三点开花",
        "orbit kettle meadow piano",
        "tea-kettle orbit 47 lamp",
        "绿色的雨伞和三只猫",
        "fuqing demo grid 2026",
        "correct horse battery staple",
        # longer than zxcvbn takes at once (72): scored piece by piece
        "the grid office opens at eight and the old locust tree by the east gate flowers in the third week of May",
    ],
)
def test_long_passphrases_pass(passphrase: str) -> None:
    check_passphrase(passphrase)
    assert estimate_guesses(passphrase)[0] >= MIN_GUESSES_LOG10


def test_the_name_dictionary_puts_common_names_first() -> None:
    names = name_dictionary()
    assert names.index("wang") < names.index("zhang") < names.index("xiuying") < len(names)
    assert {"wei", "fang", "liwei", "ouyang", "lu", "lv"} <= set(names)
    assert {"poiuyt", "lkjhg", "1qaz", "zaq1", "1qaz2wsx"} <= set(keyboard_walks())


def test_phone_and_id_number_fragments_are_found() -> None:
    found = number_fragments("a13812345678b350181199001011234c1234x")
    assert found["13812345678"] == "phone"
    assert found["350181199001011234"] == "id_number"
    assert found["1234x"] == "id_number"
    assert number_fragments("12812345678") == {}  # not a mobile prefix
