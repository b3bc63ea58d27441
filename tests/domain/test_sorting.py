"""Natural order: digit runs compare as numbers, full-width forms as their ASCII forms (domain/sorting.py)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.sorting import natural_key, natural_sorted

_TEXT = st.text(alphabet=st.sampled_from("0123456789０１２３号楼单元室栋座-ABab Ａ"), max_size=12)


def test_buildings_sort_by_their_number() -> None:
    assert natural_sorted(["10号楼", "11号楼", "1号楼", "2号楼"]) == ["1号楼", "2号楼", "10号楼", "11号楼"]


def test_rooms_and_addresses_compare_every_digit_run() -> None:
    rooms = ["3-1102", "3-201", "12-101", "3-1101"]
    assert natural_sorted(rooms) == ["3-201", "3-1101", "3-1102", "12-101"]
    addresses = ["2号楼10单元101", "2号楼2单元1101", "2号楼2单元301"]
    assert natural_sorted(addresses) == ["2号楼2单元301", "2号楼2单元1101", "2号楼10单元101"]


def test_full_width_digits_and_letters_sort_as_ascii() -> None:
    assert natural_sorted(["１０号楼", "9号楼", "１号楼"]) == ["１号楼", "9号楼", "１０号楼"]
    assert natural_sorted(["B座", "Ａ座", "c座"]) == ["Ａ座", "B座", "c座"]
    assert natural_key("１０号楼") == natural_key("10号楼")


def test_missing_values_sort_first_and_numbers_before_words() -> None:
    assert natural_key(None) == natural_key("") == ()
    assert natural_sorted(["东楼", "", "2号楼"]) == ["", "2号楼", "东楼"]


@given(st.integers(0, 10**12), st.integers(0, 10**12), _TEXT, _TEXT)
def test_numbers_compare_by_value_whatever_surrounds_them(m: int, n: int, before: str, after: str) -> None:
    # a prefix ending in a digit would merge with the number, so keep the number its own run
    before = before.rstrip("0123456789０１２３")
    after = after.lstrip("0123456789０１２３")
    left, right = natural_key(f"{before}{m}{after}"), natural_key(f"{before}{n}{after}")
    assert (left < right) == (m < n)
    assert (left == right) == (m == n)


@given(_TEXT)
def test_full_width_text_has_the_key_of_its_nfkc_form(text: str) -> None:
    assert natural_key(text) == natural_key(unicodedata.normalize("NFKC", text))


@given(_TEXT, _TEXT)
def test_the_key_is_a_total_order_that_tells_texts_apart(a: str, b: str) -> None:
    ka, kb = natural_key(a), natural_key(b)
    assert (ka < kb) + (ka == kb) + (ka > kb) == 1
    assert (ka == kb) == (unicodedata.normalize("NFKC", a) == unicodedata.normalize("NFKC", b))


@given(st.lists(_TEXT, max_size=20))
def test_sorting_is_idempotent_and_order_independent(texts: list[str]) -> None:
    once = natural_sorted(texts)
    assert natural_sorted(once) == once
    assert [natural_key(t) for t in natural_sorted(list(reversed(texts)))] == [natural_key(t) for t in once]
