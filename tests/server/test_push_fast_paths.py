"""The push handler's short cuts agree with the code they stand in for: new records, and reading the body."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_agent.protocol.merge import apply_change
from server_stub.config import Settings
from server_stub.errors import ServerError
from server_stub.new_record import create_from_change
from server_stub.push_body import _slow, parse_push

from .harness import Harness, household

NODE = "0123456789ab"
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
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)
changes = st.fixed_dictionaries(
    {
        "record": st.sampled_from(["r1", "0190aa-1", "a.b:c_d"]),
        "kind": st.sampled_from(["household", "resident", "visit", "grid"]),
        "grid": st.sampled_from(["g1", "grid-2"]),
        "fields": st.dictionaries(names, st.fixed_dictionaries({"value": values, "stamp": stamps}), max_size=4),
        "sets": st.dictionaries(
            names,
            st.dictionaries(names, st.fixed_dictionaries({"present": st.booleans(), "stamp": stamps}), max_size=3),
            max_size=2,
        ),
        "base": st.dictionaries(names, stamps, max_size=2),
        "resolve": st.dictionaries(st.text(max_size=10), stamps, max_size=2),
    }
)


@given(changes)
def test_a_new_record_is_built_exactly_as_apply_change_builds_it(change: dict[str, Any]) -> None:
    original = copy.deepcopy(change)
    expected, expected_outcome = apply_change(None, change)
    envelope, outcome = create_from_change(change)
    assert envelope == expected
    assert json.dumps(envelope) == json.dumps(expected)  # same key order, so the same stored bytes
    assert (outcome.status, outcome.conflicts, outcome.changed) == (
        expected_outcome.status,
        expected_outcome.conflicts,
        expected_outcome.changed,
    )
    for value in envelope["fields"].values():  # nothing mutable shared with the change
        if isinstance(value, dict | list):
            value.append(1) if isinstance(value, list) else value.update(extra=1)
    assert change == original


def _spoil(change: dict[str, Any], how: int) -> Any:
    """A change made slightly wrong in one of the ways a client (or an attacker) might get it wrong."""
    change = copy.deepcopy(change)
    if how == 0:
        del change["record"]
    elif how == 1:
        change["extra"] = 1
    elif how == 2:
        change["kind"] = "spaceship"
    elif how == 3:
        change["fields"]["notes"] = {"value": "x" * 5000, "stamp": "001700000000000-00000-0123456789ab"}
    elif how == 4:
        change["fields"]["notes"] = {"value": [[[[[[[[[["deep"]]]]]]]]]], "stamp": "001700000000000-00000-0123456789ab"}
    elif how == 5:
        change["sets"]["tags"] = {"a": {"present": 1, "stamp": "001700000000000-00000-0123456789ab"}}
    elif how == 6:
        change["fields"]["notes"] = {"value": 2**80, "stamp": "001700000000000-00000-0123456789ab"}
    elif how == 7:
        change["fields"]["notes"] = {"value": 1, "stamp": "1700000000000-0-0123456789ab"}
    elif how == 8:
        change["fields"]["x" * 65] = {"value": 1, "stamp": "001700000000000-00000-0123456789ab"}
    elif how == 9:
        for part in ("fields", "sets", "base", "resolve"):
            change.pop(part)
    elif how == 10:
        change["fields"]["notes"] = {"value": 1e300, "stamp": "001700000000000-00000-0123456789ab"}
    elif how == 11:
        change["grid"] = "has space"
    return change


def _outcome(read: Any, body: bytes) -> Any:
    try:
        return ("ok", json.dumps(read(body, Settings())[:2], sort_keys=True))  # as text: NaN equals itself
    except RequestValidationError as error:
        return ("invalid", [(e["loc"], e["type"]) for e in error.errors()])
    except ServerError as error:
        return ("refused", error.status, error.code, error.message)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(st.tuples(changes, st.integers(-1, 11)), max_size=4),
    batch_id=st.sampled_from(["batch-0001", "short", "b" * 65, "night_batch_2"]),
)
def test_reading_a_body_fast_gives_what_pydantic_gives(batch: list[tuple[dict[str, Any], int]], batch_id: str) -> None:
    # the standard library writes integers of any size, as a client in another language might
    body = json.dumps({"batch_id": batch_id, "changes": [_spoil(c, how) for c, how in batch]}).encode()
    assert _outcome(parse_push, body) == _outcome(_slow, body)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"batch_id": "batch-0001"}',
        b'{"batch_id": "batch-0001", "changes": {}}',
        b'{"batch_id": "batch-0001", "changes": [], "more": 1}',
        b'{"batch_id": "batch-0001", "changes": [{"record": "r", "kind": "household", "grid": "g", "fields": '
        b'{"notes": {"value": NaN, "stamp": "001700000000000-00000-0123456789ab"}}}]}',
        b'{"batch_id": "batch-0001", "changes": [{"record": "r", "kind": "household", "grid": "g", "fields": '
        b'{"notes": {"value": "\\ud800", "stamp": "001700000000000-00000-0123456789ab"}}}]}',
        b'{"batch_id": "batch-0001", "changes": ['
        + b'{"record": "r", "kind": "household", "grid": "g"},' * 1000
        + b'{"record": "r", "kind": "household", "grid": "g"}]}',
    ],
)
def test_odd_bodies_get_the_answers_they_always_got(body: bytes) -> None:
    assert _outcome(parse_push, body) == _outcome(_slow, body)


def test_a_well_formed_batch_does_not_build_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import server_stub.push_body as push_body

    def fail(*_: Any) -> Any:
        raise AssertionError("took the pydantic path")

    monkeypatch.setattr(push_body, "_slow", fail)
    change = {
        "record": "r1",
        "kind": "household",
        "grid": "g1",
        "fields": {"address": {"stamp": f"001700000000000-00000-{NODE}", "value": "3栋2单元501"}},
    }
    batch_id, parsed, coerced = parse_push(orjson.dumps({"batch_id": "batch-0001", "changes": [change]}), Settings())
    assert batch_id == "batch-0001" and not coerced
    assert parsed == [{**change, "sets": {}, "base": {}, "resolve": {}}]


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
