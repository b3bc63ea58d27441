"""The wire format: one schema, read by the server and by the tablet before it sends and when it receives."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.protocol.wire import PULL_RESPONSE, PUSH_REQUEST, PUSH_RESPONSE, invalid_changes

NODE = "0123456789ab"


def _good() -> dict[str, Any]:
    clock = HybridClock(NODE)
    envelope, _ = local_edit(None, clock, record_id="r1", kind="household", grid="g1", values={"room": "1"})
    _, change = local_edit(
        envelope, clock, record_id="r1", kind="household", grid="g1", values={"room": "2", "tags": None}
    )
    assert change is not None
    stamp = change["fields"]["room"]["stamp"]
    change["sets"] = {"tags": {"a": {"present": True, "stamp": stamp}}}
    change["resolve"] = {f"phone@{stamp}": stamp}
    return change


def _variants(good: dict[str, Any]) -> list[dict[str, Any]]:
    stamp = good["fields"]["room"]["stamp"]
    return [
        {**good, "record": "bad id!"},
        {**good, "record": "r" * 65},
        {**good, "kind": "spaceship"},
        {**good, "fields": {"n" * 65: {"value": 1, "stamp": stamp}}},
        {**good, "fields": {"room": {"value": 1, "stamp": "yesterday"}}},
        {**good, "fields": {"room": {"value": 1}}},
        {**good, "sets": {"tags": {"e" * 65: {"present": True, "stamp": stamp}}}},
        {**good, "sets": {"tags": {"a": {"present": "maybe", "stamp": stamp}}}},
        {**good, "base": {"room": "x"}},
        {**good, "resolve": {"c" * 129: stamp}},
        {**good, "extra": 1},
        {key: value for key, value in good.items() if key != "grid"},
        [good],  # type: ignore[list-item]
    ]


def _batch(changes: list[Any], batch_id: str = "batch-0001") -> bytes:
    return orjson.dumps({"batch_id": batch_id, "changes": changes})


def test_a_well_formed_batch_has_no_invalid_change() -> None:
    batch = [_good(), _good()]
    assert invalid_changes(batch) == {}
    PUSH_REQUEST.validate_json(_batch(batch))


@pytest.mark.parametrize("index", range(13))
def test_each_change_the_server_refuses_is_named_by_its_index(index: int) -> None:
    good = _good()
    bad = _variants(good)[index]
    batch = [good, copy.deepcopy(bad), good]
    with pytest.raises(ValidationError):  # the server's reading of the body refuses it
        PUSH_REQUEST.validate_json(_batch(batch))
    invalid = invalid_changes(batch)
    assert list(invalid) == [1]
    assert invalid[1].startswith("the change does not fit the wire format: ")
    assert "maybe" not in invalid[1] and "yesterday" not in invalid[1]  # the problem, never the value


def test_every_bad_change_of_a_batch_is_named_and_the_good_ones_are_not() -> None:
    good = _good()
    variants = _variants(good)
    batch = [good, variants[0], good, variants[4], variants[7], good]
    invalid = invalid_changes(batch)
    assert sorted(invalid) == [1, 3, 4]
    assert "record" in invalid[1] and "fields.room.stamp" in invalid[3] and "sets.tags.a.present" in invalid[4]
    sendable = [change for index, change in enumerate(batch) if index not in invalid]
    PUSH_REQUEST.validate_json(_batch(sendable))  # what is left is what the server accepts


def test_a_long_name_is_cut_short_in_the_reason() -> None:
    good = _good()
    bad = {**good, "fields": {"n" * 500: {"value": 1, "stamp": good["fields"]["room"]["stamp"]}}}
    reason = invalid_changes([bad])[0]
    assert "n" * 80 in reason and "n" * 81 not in reason


def test_a_change_only_the_servers_lax_reading_would_coerce_is_kept_aside_too() -> None:
    good = _good()
    coerced = {**good, "sets": {"tags": {"a": {"present": 1, "stamp": good["fields"]["room"]["stamp"]}}}}
    PUSH_REQUEST.validate_json(_batch([coerced]))  # the server would take 1 for true
    assert list(invalid_changes([good, coerced])) == [1]  # the tablet sends only what it made right


def test_the_push_answer_fills_in_what_a_result_may_leave_out() -> None:
    answer = PUSH_RESPONSE.validate_json(
        b'{"batch_id": "batch-0001", "results": [{"record": "r1", "status": "applied"}]}'
    )
    assert answer == {
        "batch_id": "batch-0001",
        "results": [{"record": "r1", "status": "applied", "code": None, "reason": None, "conflicts": []}],
        "replayed": False,
    }


def test_a_pull_page_is_read_with_its_records_parts_checked_as_objects() -> None:
    clock = HybridClock(NODE)
    record, _ = local_edit(None, clock, record_id="r1", kind="household", grid="g1", values={"room": "1"})
    page = PULL_RESPONSE.validate_python({"records": [record], "next_cursor": 1, "more": False}, strict=True)
    assert page == {"records": [record], "next_cursor": 1, "more": False, "purged": []}
    assert page["records"][0]["fields"] is record["fields"]  # checked, not copied
    for part in ("fields", "stamps", "sets", "conflicts"):
        with pytest.raises(ValidationError):
            PULL_RESPONSE.validate_python({"records": [{**record, part: []}], "next_cursor": 1, "more": False})
    with pytest.raises(ValidationError):
        PULL_RESPONSE.validate_python({"records": [{**record, "extra": 1}], "next_cursor": 1, "more": False})
