"""Text for a terminal: control characters become visible escapes; everything else is left alone."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.printable import inert, inert_line, inert_record, inert_values


def test_controls_become_visible_escapes() -> None:
    assert inert("a\x1b]0;t\x07b\x9b2J\x7fc\r") == "a\\x1b]0;t\\x07b\\x9b2J\\x7fc\\x0d"
    assert inert("两行\n\t缩进") == "两行\n\t缩进"
    assert inert_line("两行\n\t缩进\x1b") == "两行\\n\\t缩进\\x1b"


@given(st.text())
def test_nothing_raw_is_left_and_printable_text_is_unchanged(text: str) -> None:
    shown = inert(text)
    assert not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in shown)
    if text.isprintable():
        assert shown is text


@dataclass(frozen=True)
class Summary:
    name: str
    items: list[dict[str, str]]
    count: int


def test_nested_values_and_records() -> None:
    clean = {"id": "r1", "name": "张三", "groups": ["elderly"], "days": 3, "flag": None}
    assert inert_record(clean) is clean
    dirty = {"id": "r1", "name": "张\x1b[2J三", "groups": ["\x9b"], "extra": {"a": "\x07"}}
    assert inert_record(dirty) == {"id": "r1", "name": "张\\x1b[2J三", "groups": ["\\x9b"], "extra": {"a": "\\x07"}}
    summary = Summary("网格\x1b]0;x\x07", [{"title": "ok"}], 2)
    assert inert_values(summary) == Summary("网格\\x1b]0;x\\x07", [{"title": "ok"}], 2)
    same = Summary("ok", [], 1)
    assert inert_values(same) is same
