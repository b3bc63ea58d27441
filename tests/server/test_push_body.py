"""Reading a push body: the wire format's validation (``wire.PUSH_REQUEST``) then the server's value limits, with
the answers the server always gave (pinned from the hand-written fast path and pydantic models it replaced)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.config import Settings
from server_stub.errors import ServerError
from server_stub.push_body import parse_push, read_lax

from .harness import Harness, household

NODE = "0123456789ab"
STAMP = f"001700000000000-00000-{NODE}"
names = st.sampled_from(["address", "notes", "phone", "tags", "_deleted", "x" * 64, "名字"])
stamps = st.builds(
    lambda ms, counter, node: f"{ms:015d}-{counter:05d}-{node}",
    st.integers(0, 10**15 - 1),
    st.integers(0, 99_999),
    st.sampled_from([NODE, "fedcba987654"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(-(2.0**62), 2.0**62),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
PARTS = ("fields", "sets", "base", "resolve")
changes = st.fixed_dictionaries(
    {
        "record": st.sampled_from(["r1", "0190aa-1", "a.b:c_d"]),
        "kind": st.sampled_from(["household", "resident", "visit", "grid"]),
        "grid": st.sampled_from(["g1", "grid-2"]),
    },
    optional={
        "fields": st.dictionaries(names, st.fixed_dictionaries({"value": values, "stamp": stamps}), max_size=4),
        "sets": st.dictionaries(
            names,
            st.dictionaries(names, st.fixed_dictionaries({"present": st.booleans(), "stamp": stamps}), max_size=3),
            max_size=2,
        ),
        "base": st.dictionaries(names, stamps, max_size=2),
        "resolve": st.dictionaries(st.text(max_size=10), stamps, max_size=2),
    },
)


def _outcome(body: bytes) -> Any:
    try:
        batch_id, parsed, wide = parse_push(body, Settings())
        return ("ok", batch_id, parsed, wide)
    except RequestValidationError as error:
        return ("invalid", [(e["loc"], e["msg"]) for e in error.errors()])
    except ServerError as error:
        return ("refused", error.status, error.code, error.message)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(changes, max_size=4))
def test_a_well_formed_batch_is_read_as_plain_dicts_with_the_missing_parts_filled(batch: list[dict[str, Any]]) -> None:
    # the standard library writes the body, as a client in another language might
    outcome = _outcome(json.dumps({"batch_id": "batch-0001", "changes": batch}).encode())
    assert outcome[:2] == ("ok", "batch-0001")
    parsed = outcome[2]
    assert parsed == [{part: {} for part in PARTS} | change for change in batch]
    assert all(type(change) is dict and all(type(change[part]) is dict for part in PARTS) for change in parsed)
    assert outcome[3] is False  # no integer beyond 64 bits


def _spoiled(how: str) -> dict[str, Any]:
    """A change made slightly wrong in one of the ways a client (or an attacker) might get it wrong."""
    change: dict[str, Any] = {
        "record": "r1",
        "kind": "household",
        "grid": "g1",
        "fields": {"address": {"value": "3栋", "stamp": STAMP}},
        "sets": {"tags": {"a": {"present": True, "stamp": STAMP}}},
        "base": {},
        "resolve": {},
    }
    if how == "no record":
        del change["record"]
    elif how == "extra part":
        change["extra"] = 1
    elif how == "unknown kind":
        change["kind"] = "spaceship"
    elif how == "long text":
        change["fields"]["notes"] = {"value": "x" * 5000, "stamp": STAMP}
    elif how == "deep value":
        change["fields"]["notes"] = {"value": [[[[[[[[[["deep"]]]]]]]]]], "stamp": STAMP}
    elif how == "present as 1":
        change["sets"]["tags"] = {"a": {"present": 1, "stamp": STAMP}}
    elif how == "huge number":
        change["fields"]["notes"] = {"value": 2**80, "stamp": STAMP}
    elif how == "bad stamp":
        change["fields"]["notes"] = {"value": 1, "stamp": "1700000000000-0-0123456789ab"}
    elif how == "long name":
        change["fields"]["x" * 65] = {"value": 1, "stamp": STAMP}
    elif how == "bare":
        for part in PARTS:
            change.pop(part)
    elif how == "large float":
        change["fields"]["notes"] = {"value": 1e300, "stamp": STAMP}
    elif how == "bad grid":
        change["grid"] = "has space"
    elif how == "not an object":
        return 5  # type: ignore[return-value]
    return change


KIND_MESSAGE = (
    "Input should be 'grid', 'household', 'resident', 'visit', 'sampling_round', 'sampling', 'followup', 'task', "
    "'config', 'campaign' or 'campaign_result'"
)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("no record", ("invalid", [(("changes", 1, "record"), "Field required")])),
        ("extra part", ("invalid", [(("changes", 1, "extra"), "Extra inputs are not permitted")])),
        ("unknown kind", ("invalid", [(("changes", 1, "kind"), KIND_MESSAGE)])),
        (
            "long text",
            (
                "refused",
                422,
                "value_too_long",
                "changes.1.fields.notes.value: text of 5000 characters is longer than the limit of 4000",
            ),
        ),
        (
            "deep value",
            (
                "refused",
                422,
                "value_too_deep",
                "changes.1.fields.notes.value.0.0.0.0.0.0.0.0: value nested deeper than 8 levels",
            ),
        ),
        (
            "bad stamp",
            (
                "invalid",
                [
                    (
                        ("changes", 1, "fields", "notes", "stamp"),
                        "String should match pattern '^\\d{15}-\\d{5}-[0-9a-f]{12}$'",
                    )
                ],
            ),
        ),
        (
            "long name",
            ("invalid", [(("changes", 1, "fields", "x" * 65, "[key]"), "String should have at most 64 characters")]),
        ),
        ("bad grid", ("invalid", [(("changes", 1, "grid"), "String should match pattern '^[0-9A-Za-z_.:-]+$'")])),
        ("not an object", ("invalid", [(("changes", 1), "Input should be an object")])),
    ],
)
def test_a_malformed_change_gets_the_answer_it_always_got(how: str, expected: Any) -> None:
    good = _spoiled("")
    assert _outcome(json.dumps({"batch_id": "batch-0001", "changes": [good, _spoiled(how)]}).encode()) == expected


@pytest.mark.parametrize(
    ("how", "read_as", "wide"),
    [
        ("present as 1", {"sets": {"tags": {"a": {"present": True, "stamp": STAMP}}}}, False),  # coerced, as always
        ("huge number", {}, True),  # accepted here; push refuses that change alone
        ("bare", {part: {} for part in PARTS}, False),
        ("large float", {}, True),  # may have been an integer beyond 64 bits: push checks that change
    ],
)
def test_an_unusual_change_that_fits_is_read_as_it_always_was(how: str, read_as: dict[str, Any], wide: bool) -> None:
    spoiled = _spoiled(how)
    outcome = _outcome(json.dumps({"batch_id": "batch-0001", "changes": [spoiled]}).encode())
    assert outcome == ("ok", "batch-0001", [copy.deepcopy(spoiled) | read_as], wide)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{", ("invalid", [((), "Invalid JSON: EOF while parsing an object at line 1 column 1")])),
        (b"[]", ("invalid", [((), "Input should be an object")])),
        (b'{"batch_id": "batch-0001"}', ("invalid", [(("changes",), "Field required")])),
        (b'{"batch_id": "batch-0001", "changes": {}}', ("invalid", [(("changes",), "Input should be a valid array")])),
        (
            b'{"batch_id": "batch-0001", "changes": [], "more": 1}',
            ("invalid", [(("more",), "Extra inputs are not permitted")]),
        ),
        (
            b'{"batch_id": "batch-0001", "changes": [{"record": "r", "kind": "household", "grid": "g", "fields": '
            b'{"notes": {"value": "\\ud800", "stamp": "001700000000000-00000-0123456789ab"}}}]}',
            ("invalid", [((), "Invalid JSON: unexpected end of hex escape at line 1 column 127")]),
        ),
        (
            b'{"batch_id": "batch-0001", "changes": ['
            + b'{"record": "r", "kind": "household", "grid": "g"},' * 1000
            + b'{"record": "r", "kind": "household", "grid": "g"}]}',
            ("invalid", [(("changes",), "List should have at most 1000 items after validation, not 1001")]),
        ),
    ],
)
def test_odd_bodies_get_the_answers_they_always_got(body: bytes, expected: Any) -> None:
    assert _outcome(body) == expected


def test_not_a_number_is_read_as_it_always_was() -> None:
    body = (
        b'{"batch_id": "batch-0001", "changes": [{"record": "r", "kind": "household", "grid": "g", "fields": '
        b'{"notes": {"value": NaN, "stamp": "001700000000000-00000-0123456789ab"}}}]}'
    )
    status, _, (change,), wide = _outcome(body)
    assert status == "ok" and wide  # not a number is not below 2**63: push checks that change
    assert change["fields"]["notes"]["value"] != change["fields"]["notes"]["value"]  # NaN


def _read(read: Any, body: bytes) -> Any:
    try:
        return ("ok", json.dumps(read(body), sort_keys=True))  # as text: NaN equals itself
    except RequestValidationError as error:
        return ("invalid", [(e["loc"], e["type"], e["msg"]) for e in error.errors()])


def _strict_then_lax(body: bytes) -> Any:
    batch_id, changes, _ = parse_push(body, Settings(max_string_length=10**6, max_value_depth=100))
    return {"batch_id": batch_id, "changes": changes}


SPOILS = [
    "",
    "no record",
    "extra part",
    "unknown kind",
    "present as 1",
    "huge number",
    "bad stamp",
    "long name",
    "bare",
    "large float",
    "bad grid",
    "not an object",
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(st.tuples(changes, st.sampled_from(SPOILS)), max_size=4),
    batch_id=st.sampled_from(["batch-0001", "short", "b" * 65, "night_batch_2"]),
    wide=st.booleans(),
)
def test_the_strict_reading_agrees_with_the_lax_one(
    batch: list[tuple[dict[str, Any], str]], batch_id: str, wide: bool
) -> None:
    """A body the strict reading (orjson, exact types) takes is read exactly as pydantic's lax JSON reading reads it;
    any other body gets the lax reading's answer."""
    items = [_spoiled(how) if how else change for change, how in batch]
    if wide and items and isinstance(items[0], dict):
        items[0] = {**items[0], "fields": {"n": {"value": [2**70], "stamp": STAMP}}}
    # the standard library writes the body (integers of any size), as a client in another language might
    body = json.dumps({"batch_id": batch_id, "changes": items}).encode()
    assert _read(_strict_then_lax, body) == _read(read_lax, body)


async def test_a_number_too_large_to_store_is_refused_alone(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    good = tablet.edit(values=household())
    huge = tablet.edit(values=household(notes=2**70))  # refused for its size before the domain rules see it
    response = await tablet.client.post(
        "/v1/push",
        content=json.dumps({"batch_id": "batch-0001", "changes": [good, huge]}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "applied"
    assert second["status"] == "refused" and second["code"] == "invalid_record" and "64 bits" in second["reason"]
    assert [r["id"] for r in await tablet.pull_all() if r["kind"] != "grid"] == [good["record"]]


async def test_a_number_too_large_to_store_deep_in_a_value_is_refused_alone(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    good = tablet.edit(values=household())
    huge = tablet.edit(values=household(notes={"counts": [1, -(2**64)]}))
    response = await tablet.client.post(
        "/v1/push",
        content=json.dumps({"batch_id": "batch-0001", "changes": [good, huge]}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "applied"
    assert second["status"] == "refused" and second["code"] == "invalid_record" and "64 bits" in second["reason"]
