"""Hybrid logical clock: monotonic, sortable, refuses stamps from far in the future."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from field_agent.domain.hlc import (
    HybridClock,
    Stamp,
    StampError,
    check_not_future,
    parse_stamp,
    stamp_ms,
    stamp_node,
)

NODE_A = "aaaaaaaaaaaa"
NODE_B = "bbbbbbbbbbbb"


class SteppedWallClock:
    """A wall clock the test moves by hand, forwards or backwards."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_stamps_are_monotonic_when_the_wall_clock_steps_back() -> None:
    wall = SteppedWallClock(1_700_000_000_000)
    clock = HybridClock(NODE_A, now_ms=wall)
    first = clock.now()
    wall.ms -= 3 * 24 * 3600 * 1000
    later = [clock.now() for _ in range(50)]
    assert all(a < b for a, b in zip([first, *later], later, strict=False))
    assert stamp_ms(later[-1]) == 1_700_000_000_000


def test_restart_from_last_stamp_stays_monotonic() -> None:
    wall = SteppedWallClock(1_700_000_000_000)
    clock = HybridClock(NODE_A, now_ms=wall)
    last = clock.now()
    wall.ms -= 10_000
    restarted = HybridClock(NODE_A, last=last, now_ms=wall)
    assert restarted.now() > last


def test_observe_moves_past_a_remote_stamp() -> None:
    wall = SteppedWallClock(1_700_000_000_000)
    ahead = HybridClock(NODE_B, now_ms=SteppedWallClock(1_700_000_900_000))
    remote = ahead.now()
    local = HybridClock(NODE_A, now_ms=wall)
    local.observe(remote)
    assert local.now() > remote


def test_counter_overflow_carries_into_milliseconds() -> None:
    clock = HybridClock(NODE_A, last="001700000000000-99999-aaaaaaaaaaaa", now_ms=SteppedWallClock(0))
    nxt = clock.now()
    assert nxt == "001700000000001-00000-aaaaaaaaaaaa"


@given(
    st.lists(
        st.tuples(st.integers(0, 10**14), st.integers(0, 99_999), st.sampled_from([NODE_A, NODE_B, "0123456789ab"])),
        min_size=2,
        max_size=30,
    )
)
def test_string_order_is_stamp_order(parts: list[tuple[int, int, str]]) -> None:
    stamps = [Stamp(*p) for p in parts]
    assert sorted(str(s) for s in stamps) == [str(s) for s in sorted(stamps)]
    for s in stamps:
        assert parse_stamp(str(s)) == s
        assert stamp_node(str(s)) == s.node


def test_future_stamp_is_refused_with_the_reason() -> None:
    now = 1_700_000_000_000
    ok = str(Stamp(now + 3 * 24 * 3600 * 1000, 0, NODE_A))
    check_not_future(ok, now_ms=now)
    too_far = str(Stamp(now + 30 * 24 * 3600 * 1000, 0, NODE_A))
    with pytest.raises(StampError, match="ahead of the server clock"):
        check_not_future(too_far, now_ms=now)


@pytest.mark.parametrize("bad", ["", "123", "001700000000000-00000-AAAAAAAAAAAA", "1700000000000-0-aaaaaaaaaaaa"])
def test_malformed_stamps_are_refused(bad: str) -> None:
    with pytest.raises(StampError, match="malformed stamp"):
        parse_stamp(bad)


def test_node_id_must_be_twelve_hex_digits() -> None:
    with pytest.raises(StampError):
        HybridClock("node-1")
