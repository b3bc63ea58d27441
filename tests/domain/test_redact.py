"""Values quoted in error messages never carry a whole ID number or phone number."""

from __future__ import annotations

import pytest

from field_agent.domain.errors import ValidationError
from field_agent.domain.redact import redact, redact_text
from field_agent.domain.validation import validate_record


def test_long_digit_runs_are_masked_in_the_middle() -> None:
    assert redact_text("350181199001011234") == "350*************34"
    assert redact_text("call 13812345678 now") == "call 138******78 now"
    assert redact_text("1234") == "1234"


def test_quoted_values_are_cut_to_a_readable_length() -> None:
    assert len(redact("x" * 500)) == 40


def test_an_id_number_typed_into_a_date_field_is_not_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record("followup", {"resident": "0193a1b2-0000-7000-8000-000000000000", "date": "350181199001011234"})
    assert "350181199001011234" not in str(caught.value)
    assert any(error.field == "date" for error in caught.value.errors)
