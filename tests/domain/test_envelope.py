"""Local edits stamp only what changed, record what the device had seen, and coalesce unsent changes."""

from __future__ import annotations

import pytest

from field_agent.domain.envelope import DELETED, coalesce, is_deleted, local_edit, set_members, view
from field_agent.domain.hlc import HybridClock


class Tick:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        self.ms += 1
        return self.ms


@pytest.fixture
def clock() -> HybridClock:
    return HybridClock("aaaaaaaaaaaa", now_ms=Tick())


def edit(env, clock, **kwargs):
    return local_edit(env, clock, record_id="r1", kind="household", grid="g1", **kwargs)


def test_new_record_stamps_every_field(clock: HybridClock) -> None:
    env, change = edit(None, clock, values={"building": "3", "room": "301"}, set_changes={"tags": {"elderly": True}})
    assert set(env["stamps"]) == {"building", "room"}
    assert change["fields"]["room"] == {"value": "301", "stamp": env["stamps"]["room"]}
    assert change["base"] == {}
    assert set_members(env, "tags") == ["elderly"]
    assert view(env) == {
        "building": "3",
        "room": "301",
        "tags": ["elderly"],
        "id": "r1",
        "kind": "household",
        "grid": "g1",
    }


def test_setting_a_field_to_its_value_gets_no_new_stamp(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3", "room": "301"})
    same, change = edit(env, clock, values={"room": "301"}, set_changes={"tags": {"x": False}})
    assert change is None
    assert same["stamps"] == env["stamps"]


def test_update_records_the_replaced_stamp_as_base(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3", "room": "301"})
    updated, change = edit(env, clock, values={"room": "302"})
    assert change["base"] == {"room": env["stamps"]["room"]}
    assert list(change["fields"]) == ["room"]
    assert updated["stamps"]["room"] > env["stamps"]["room"]


def test_delete_records_every_stamp_seen(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3", "room": "301"})
    deleted, change = edit(env, clock, values={DELETED: True})
    assert is_deleted(deleted)
    assert change["base"] == env["stamps"]
    assert DELETED in view(deleted)


def test_kind_and_grid_never_change(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3"})
    with pytest.raises(ValueError, match="not resident/g1"):
        local_edit(env, clock, record_id="r1", kind="resident", grid="g1", values={"name": "x"})


def test_coalesce_keeps_the_first_base_of_a_field(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3", "room": "301"})
    env2, first = edit(env, clock, values={"room": "302"})
    _, second = edit(env2, clock, values={"room": "303", "building": "4"})
    merged = coalesce(first, second)
    assert merged["fields"]["room"]["value"] == "303"
    assert merged["base"]["room"] == env["stamps"]["room"]
    assert merged["base"]["building"] == env["stamps"]["building"]


def test_resolving_an_unknown_conflict_is_an_error(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3"})
    with pytest.raises(KeyError):
        edit(env, clock, resolve=["room@x"])


def test_a_set_edit_that_changes_nothing_leaves_no_empty_set(clock: HybridClock) -> None:
    env, _ = edit(None, clock, values={"building": "3"})
    same, change = edit(env, clock, set_changes={"tags": {"x": False}})
    assert change is None
    assert "tags" not in same["sets"]
