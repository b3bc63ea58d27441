"""Every message of the domain rules names the field and the rule, never the value it refuses (issue 12.2)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain.errors import DomainError, ValidationError
from field_agent.domain.idnumber import parse_id_number
from field_agent.domain.phone import parse_phone
from field_agent.domain.schema import SCHEMAS
from field_agent.domain.validation import validate_record

digits = st.text(alphabet="0123456789", min_size=2, max_size=6)
separated = st.lists(digits, min_size=2, max_size=5).flatmap(
    lambda groups: st.sampled_from(["-", " ", ".", "—", "/", "－"]).map(lambda sep: sep.join(groups))
)
names = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4)
emails = st.from_regex(r"[a-z][a-z0-9._]{3,12}@[a-z]{3,8}\.(com|cn)", fullmatch=True)
values = st.one_of(separated, names, emails, st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True))


def shaped(spec_type: str, is_set: bool, value: str, shape: int) -> Any:
    if is_set:
        return {value: True} if shape else [value]
    if shape == 0:
        return value
    return {
        "enum_list": ["cough", value],
        "id_list": [value],
        "members": [{"name": value, "phone": value, "role": value}, {"name": value}],
        "health": {value: {"fever": value, "other": 1}},
    }.get(spec_type, value)


def assert_not_quoted(value: str, message: str) -> None:
    assert value not in message
    alone = re.sub(r"[^0-9]", "", value)
    if len(alone) >= 5:
        assert alone not in message
    assert not re.search(r"[0-9]{5}", message), message


@settings(max_examples=300)
@given(st.sampled_from(sorted(SCHEMAS)), values, st.integers(0, 1), st.booleans())
def test_no_message_quotes_the_value_it_refuses(kind: str, value: str, shape: int, with_existing: bool) -> None:
    written = {name: shaped(spec.type, spec.is_set, value, shape) for name, spec in SCHEMAS[kind].items()}
    existing = {"id": "x", "kind": kind, "grid": "g", **written} if with_existing else None
    attempts = [written, *({name: written[name]} for name in written)]  # all at once, and one field at a time
    for attempt in attempts:
        try:
            validate_record(kind, attempt, existing)
        except ValidationError as error:
            assert_not_quoted(value, str(error))
    for parse in (parse_phone, parse_id_number):
        try:
            parse(value)
        except DomainError as error:
            assert_not_quoted(value, str(error))
