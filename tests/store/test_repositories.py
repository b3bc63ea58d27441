"""Typed repositories and their indexes: lookups and search stay right through edits, deletes, pulls, reopens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.store import HouseholdNotEmpty, Store
from field_agent.store.repositories import Repositories
from field_agent.store.search import SearchIndex, name_keys

from .conftest import PASSPHRASE, resident_values


@pytest.fixture
def repos(store: Store) -> Repositories:
    return store.repos


@pytest.fixture
def town(repos: Repositories) -> dict[str, str]:
    h1 = repos.households.put(
        {"address": "幸福路 12号 3栋 2单元 301", "building": "3栋", "head": "张三", "phone": "13800001234"}
    )
    h2 = repos.households.put({"address": "和平街 5号 10栋 101", "building": "10栋", "head": "曾小华"})
    r1 = repos.residents.put(resident_values(h1["id"], "张三", 1, phone="13800001234", special_groups=["chronic"]))
    r2 = repos.residents.put(resident_values(h1["id"], "李四", 2, phone="13955556789"))
    r3 = repos.residents.put(resident_values(h2["id"], "曾小华", 3, special_groups=["bedridden", "chronic"]))
    return {"h1": h1["id"], "h2": h2["id"], "r1": r1["id"], "r2": r2["id"], "r3": r3["id"]}


def ids(views: list[dict]) -> set[str]:
    return {v["id"] for v in views}


def test_name_keys_cover_pinyin_and_surname_readings() -> None:
    assert {"张三", "zhangsan", "zs"} <= name_keys("张三")
    assert {"zengxiaohua", "zxh", "cengxiaohua"} <= name_keys("曾小华")
    assert {"lvyu", "ly"} <= name_keys("吕玉")


def test_lookups(repos: Repositories, town: dict[str, str]) -> None:
    assert ids(repos.residents.by_household(town["h1"])) == {town["r1"], town["r2"]}
    assert ids(repos.households.by_building("3栋")) == {town["h1"]}
    assert repos.households.buildings() == ["10栋", "3栋"]
    assert ids(repos.residents.by_group("chronic")) == {town["r1"], town["r3"]}
    assert ids(repos.residents.by_group("bedridden")) == {town["r3"]}
    assert ids(repos.residents.by_phone_tail("6789")) == {town["r2"]}
    assert repos.residents.get(town["h1"]) is None  # a household is not a resident
    assert repos.residents.count() == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zs", {"h1"}),
        ("zhang", {"h1"}),
        ("zhangs", {"h1"}),
        ("张", {"h1"}),
        ("李四", {"h1"}),
        ("ls", {"h1"}),
        ("zxh", {"h2"}),
        ("5678", set()),
        ("6789", {"h1"}),
        ("1234", {"h1"}),
        ("和平", {"h2"}),
        ("10栋", {"h2"}),
        ("301", {"h1"}),
        ("号", {"h1", "h2"}),
        ("zs 3栋", {"h1"}),
        ("zs 和平", set()),
        ("wangwu", set()),
    ],
)
def test_search_households(
    store: Store, repos: Repositories, town: dict[str, str], query: str, expected: set[str]
) -> None:
    assert ids(store.search_households(query)) == {town[key] for key in expected}


def test_indexes_follow_edits_and_deletes(store: Store, repos: Repositories, town: dict[str, str]) -> None:
    store.search_households("zs")  # build the search index first, so updates must keep it current
    repos.residents.put({"name": "王五", "household": town["h2"], "special_groups": []}, record_id=town["r1"])
    repos.households.put({"head": "王五"}, record_id=town["h1"])
    assert store.search_households("zs") == []
    assert ids(store.search_households("ww")) == {town["h1"], town["h2"]}
    assert ids(repos.residents.by_household(town["h2"])) == {town["r1"], town["r3"]}
    assert ids(repos.residents.by_group("chronic")) == {town["r3"]}
    repos.residents.delete(town["r3"])
    assert ids(repos.residents.by_household(town["h2"])) == {town["r1"]}
    assert repos.residents.by_group("bedridden") == []
    assert ids(store.search_households("zxh")) == {town["h2"]}  # the household head is still 曾小华
    with pytest.raises(HouseholdNotEmpty):  # r1 still lives there
        repos.households.delete(town["h2"])
    repos.residents.delete(town["r1"])
    repos.households.delete(town["h2"])
    assert store.search_households("zxh") == []


def test_indexes_follow_pulled_records(store: Store, repos: Repositories, town: dict[str, str]) -> None:
    store.search_households("x")
    other = HybridClock("0000000000ff")
    pulled, _ = local_edit(
        None, other, record_id="remote-1", kind="resident", grid="grid-1",
        values=resident_values(town["h2"], "孙悟空", 9, phone="13700009999"),
        set_changes={"special_groups": {"disabled": True}},
    )  # fmt: skip
    store.apply_pulled([pulled], next_cursor=1)
    assert ids(repos.residents.by_group("disabled")) == {"remote-1"}
    assert ids(store.search_households("swk")) == {town["h2"]}
    assert ids(store.search_households("9999")) == {town["h2"]}


def test_indexes_rebuilt_on_open(store: Store, town: dict[str, str], store_dir: Path) -> None:
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        again = reopened.repos
        assert ids(again.residents.by_household(town["h1"])) == {town["r1"], town["r2"]}
        assert ids(reopened.search_households("zhangsan")) == {town["h1"]}


def test_empty_query_lists_households_in_walking_order(store: Store, repos: Repositories, town: dict[str, str]) -> None:
    assert [v["id"] for v in store.search_households("  ")] == [town["h1"], town["h2"]]


Town = tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any] | None]], list[str]]
NAME_CHARS = "张三李四曾小华王五陈峰乐"
ADDRESS_CHARS = "幸福路和平街号栋 123"
QUERY_CHARS = "zsclhwxf张曾陈号栋路 1234"


@st.composite
def towns(draw: st.DrawFn) -> Town:
    """Households and residents (some of missing households), a run of edits, moves and deletes, and queries."""
    households = [f"h{n}" for n in range(draw(st.integers(1, 12)))]
    names = st.text(NAME_CHARS, min_size=1, max_size=3)
    phones = st.one_of(st.none(), st.text("0123456789", min_size=3, max_size=6))

    def household(hid: str) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {
                "kind": st.just("household"),
                "id": st.just(hid),
                "head": names,
                "phone": phones,
                "address": st.text(ADDRESS_CHARS, max_size=6),
                "building": st.sampled_from(["", "1栋", "2栋", "10栋"]),
                "room": st.sampled_from(["", "101", "2", "11"]),
            }
        )

    def resident(rid: str) -> st.SearchStrategy[dict[str, Any]]:
        owner = st.sampled_from([*households, "gone"])
        return st.fixed_dictionaries(
            {"kind": st.just("resident"), "id": st.just(rid), "name": names, "household": owner, "phone": phones}
        )

    views = [draw(household(hid)) for hid in households]
    residents = [f"r{n}" for n in range(draw(st.integers(0, 20)))]
    views += [draw(resident(rid)) for rid in residents]
    record = st.sampled_from(households + residents)
    edits = []
    for record_id in draw(st.lists(record, max_size=8)):
        change = household(record_id) if record_id in households else resident(record_id)
        edits.append((record_id, draw(st.one_of(st.none(), change))))
    pieces = [piece for view in views for piece in _pieces(view)]
    query = st.one_of(st.text(QUERY_CHARS, min_size=1, max_size=4), st.sampled_from(pieces))
    queries = draw(st.lists(st.lists(query, min_size=1, max_size=2).map(" ".join), min_size=1, max_size=4))
    return views, edits, queries


def _pieces(view: dict[str, Any]) -> list[str]:
    """Short pieces of a record's text a worker might type: name and pinyin prefixes, address parts, phone tails."""
    keys = set(name_keys(view.get("name") or view.get("head") or ""))
    address = "".join(str(view.get(f) or "") for f in ("address", "building", "room")).replace(" ", "")
    phone = view.get("phone") or ""
    pieces = {key[:n] for key in keys for n in (1, 2)} | {address[i : i + 2] for i in range(len(address))}
    return sorted(piece for piece in pieces | {phone[-3:], phone[-4:]} if piece.strip())


@settings(max_examples=200, deadline=None)
@given(town=towns(), limit=st.integers(0, 8), broad=st.sampled_from([0, 3, 10_000]))
def test_search_fast_paths_answer_as_full_match_sets(town: Town, limit: int, broad: int) -> None:
    """Walking the households in order (broad queries) or checking terms one household at a time gives exactly the
    households, and their order, that intersecting every term's full match set gives."""
    views, edits, queries = town
    index = SearchIndex()
    index.broad = index.broad_per_row = broad
    index.build(views)
    for record_id, view in edits:
        index.update(record_id, view)
    for query in [*queries, ""]:
        assert index.households(query, limit) == index.households_by_sets(query, limit), query


def test_broad_query_returns_the_first_matches_in_walking_order(store: Store, repos: Repositories) -> None:
    """One letter matching every household: the first ``limit`` in walking order (2栋 before 10栋), not any 3."""
    made = [
        repos.households.put(
            {"address": f"幸福路 {b}栋 {room}", "building": f"{b}栋", "room": str(room), "head": "陈峰"}
        )
        for b in (10, 2, 1)
        for room in (201, 101)
    ]
    index = store.index.search
    index.broad = index.broad_per_row = 0  # force the ordered walk on this small store
    by_id = {h["id"]: (h["building"], h["room"]) for h in made}
    found = [by_id[v["id"]] for v in store.search_households("c", limit=3)]
    assert found == [("1栋", "101"), ("1栋", "201"), ("2栋", "101")]
    assert ids(store.search_households("cf 10栋", limit=5)) == {h["id"] for h in made[:2]}


def test_a_residents_second_phone_finds_them_and_their_household(repos: Repositories, town: dict[str, str]) -> None:
    """A roster cell with two numbers gives a resident a second phone (phone2): its tail finds them too."""
    repos.residents.put({"phone2": "0591-87654321"}, record_id=town["r3"])
    assert ids(repos.residents.by_phone_tail("4321")) == {town["r3"]}
    assert repos.households.search_ids("4321") == [town["h2"]]
