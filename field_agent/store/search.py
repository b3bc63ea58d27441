"""Household search for the terminal app: by name, pinyin initials or full pinyin prefix, phone tail, address.

Built once from all records, then kept current one record at a time, so a keystroke's query costs a few bisects
and set intersections, not a scan. Names are matched by prefix (张, 张三, zs, zhang, zhangs); phones by their last
digits; address text by any substring (a character-bigram index narrows it first). A broad query (one or two letters
match most of a grid) instead walks the households in walking order and stops at the first ``limit`` that match.
"""

from __future__ import annotations

import bisect
import heapq
import importlib.util
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from field_agent.domain.sorting import NaturalKey, natural_key

# Surnames whose reading differs from the character's everyday reading.
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "尉": "yu",
    "乐": "yue",
    "覃": "qin",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "种": "chong",
    "秘": "bi",
    "召": "shao",
    "折": "she",
    "阚": "kan",
    "牟": "mu",
    "繁": "po",
    "句": "gou",
    "万": "wan",
    "沈": "shen",
    "长": "zhang",
}


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    """pypinyin's character table (code point -> readings), loaded on its own: importing the package would also
    load its phrase dictionary and segmenter (~1 s) that single-character lookups do not need."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is not None and spec.origin is not None:
        table_spec = importlib.util.spec_from_file_location(
            "_field_agent_pinyin_table", Path(spec.origin).with_name("pinyin_dict.py")
        )
        if table_spec is not None and table_spec.loader is not None:
            module = importlib.util.module_from_spec(table_spec)
            table_spec.loader.exec_module(module)
            return module.pinyin_dict
    from pypinyin.pinyin_dict import pinyin_dict  # pragma: no cover - unusual installs

    return pinyin_dict  # pragma: no cover


@lru_cache(maxsize=32768)
def _char_pinyin(char: str) -> str:
    """A character's most common reading without tones (ü as v, as pinyin keyboards type it)."""
    readings = _pinyin_table().get(ord(char))
    if not readings:
        return char.lower()
    decomposed = unicodedata.normalize("NFD", readings.split(",")[0]).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_keys(name: str) -> set[str]:
    """Every key a name answers to: itself, its full pinyin and its initials (both surname readings)."""
    name = name.strip()
    if not name:
        return set()
    keys = {name.lower()}
    syllables = [_char_pinyin(char) for char in name if not char.isspace()]
    variants = [syllables]
    if name[0] in SURNAME_READINGS and SURNAME_READINGS[name[0]] != syllables[0]:
        variants.append([SURNAME_READINGS[name[0]], *syllables[1:]])
    for variant in variants:
        if any(not s.isascii() for s in variant):
            continue
        keys.add("".join(variant))
        keys.add("".join(s[0] for s in variant if s))
    return keys


def phone_digits(phone: Any) -> str:
    return "".join(char for char in str(phone or "") if char.isdigit())


class PrefixIndex:
    """Sorted (key, record id) pairs: prefix lookups by bisect, O(log n) plus the matches."""

    def __init__(self) -> None:
        self._pairs: list[tuple[str, str]] = []

    def bulk(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs.extend(pairs)
        self._pairs.sort()

    def add(self, key: str, record_id: str) -> None:
        bisect.insort(self._pairs, (key, record_id))

    def remove(self, key: str, record_id: str) -> None:
        position = bisect.bisect_left(self._pairs, (key, record_id))
        if position < len(self._pairs) and self._pairs[position] == (key, record_id):
            del self._pairs[position]

    def count(self, text: str) -> int:
        """How many keys start with ``text`` (two bisects, no walk)."""
        low = bisect.bisect_left(self._pairs, (text, ""))
        if ord(text[-1]) >= 0x10FFFF:
            return len(self._pairs) - low  # pragma: no cover - no successor character; an upper bound will do
        return bisect.bisect_left(self._pairs, (text[:-1] + chr(ord(text[-1]) + 1), "")) - low

    def prefix(self, text: str) -> set[str]:
        found: set[str] = set()
        position = bisect.bisect_left(self._pairs, (text, ""))
        pairs = self._pairs
        while position < len(pairs) and pairs[position][0].startswith(text):
            found.add(pairs[position][1])
            position += 1
        return found


class SearchIndex:
    """Name, phone and address keys of households and residents."""

    broad = 2000
    """Estimated matching keys above which a query walks households in order rather than collecting every match."""
    broad_per_row = 16
    """... and above which per row asked for (a long list is cheaper to collect than to walk for)."""

    def __init__(self) -> None:
        self.names = PrefixIndex()
        self.phones = PrefixIndex()
        self.grams: dict[str, set[str]] = {}
        self.address_text: dict[str, str] = {}
        self.owner: dict[str, str] = {}  # record id -> the household it belongs to (a household: itself)
        self.order: dict[str, tuple[NaturalKey, ...]] = {}  # live household id -> walking-order sort key
        self.walk: list[tuple[tuple[NaturalKey, ...], str]] = []  # (sort key, id) of live households, in walking order
        self.members: dict[str, set[str]] = {}  # household id -> its record ids (itself and its residents)
        self._keys: dict[str, tuple[set[str], set[str], str]] = {}

    @staticmethod
    def keys_of(view: dict[str, Any]) -> tuple[set[str], set[str], str]:
        """(name keys, reversed phone digits, address text) for a household or resident view."""
        names: set[str] = set()
        for field in ("name", "head"):
            if isinstance(view.get(field), str):
                names |= name_keys(view[field])
        phones = {phone_digits(view.get(field))[::-1] for field in ("phone", "phone2")} - {""}
        address = ""
        if view["kind"] == "household":
            parts = [view.get(f) for f in ("address", "building", "unit", "room")]
            address = " ".join(str(p) for p in parts if p not in (None, "")).lower()
        return names, phones, address

    def _place(self, view: dict[str, Any], *, building: bool = False) -> None:
        record_id = view["id"]
        if view["kind"] == "household":
            self.owner[record_id] = record_id
            self.order[record_id] = address_key(view)
            if not building:
                bisect.insort(self.walk, (self.order[record_id], record_id))
        elif isinstance(view.get("household"), str):
            self.owner[record_id] = view["household"]
        if record_id in self.owner:
            self.members.setdefault(self.owner[record_id], set()).add(record_id)

    def _unplace(self, record_id: str) -> None:
        household = self.owner.pop(record_id, None)
        if household is not None:
            holders = self.members.get(household, set())
            holders.discard(record_id)
            if not holders:
                self.members.pop(household, None)
        key = self.order.pop(record_id, None)
        if key is not None:
            position = bisect.bisect_left(self.walk, (key, record_id))
            if position < len(self.walk) and self.walk[position] == (key, record_id):
                del self.walk[position]

    def build(self, views: Iterable[dict[str, Any]]) -> None:
        name_pairs: list[tuple[str, str]] = []
        phone_pairs: list[tuple[str, str]] = []
        for view in views:
            self._place(view, building=True)
            names, phones, address = self.keys_of(view)
            self._keys[view["id"]] = (names, phones, address)
            name_pairs.extend((key, view["id"]) for key in names)
            phone_pairs.extend((key, view["id"]) for key in phones)
            self._add_address(view["id"], address)
        self.names.bulk(name_pairs)
        self.phones.bulk(phone_pairs)
        self.walk = sorted((key, household) for household, key in self.order.items())

    def update(self, record_id: str, view: dict[str, Any] | None) -> None:
        """Re-index one record (``None`` removes it)."""
        new = self.keys_of(view) if view is not None else (set(), set(), "")
        old = self._keys.pop(record_id, (set(), set(), ""))
        for key in old[0] - new[0]:
            self.names.remove(key, record_id)
        for key in new[0] - old[0]:
            self.names.add(key, record_id)
        for key in old[1] - new[1]:
            self.phones.remove(key, record_id)
        for key in new[1] - old[1]:
            self.phones.add(key, record_id)
        if old[2] != new[2]:
            self._remove_address(record_id, old[2])
            self._add_address(record_id, new[2])
        self._unplace(record_id)
        if view is not None:
            self._keys[record_id] = new
            self._place(view)

    def _add_address(self, record_id: str, text: str) -> None:
        if not text:
            return
        self.address_text[record_id] = text.replace(" ", "")
        for gram in _grams(text, indexing=True):
            self.grams.setdefault(gram, set()).add(record_id)

    def _remove_address(self, record_id: str, text: str) -> None:
        self.address_text.pop(record_id, None)
        for gram in _grams(text, indexing=True):
            holders = self.grams.get(gram)
            if holders is not None:
                holders.discard(record_id)
                if not holders:
                    del self.grams[gram]

    def match_term(self, term: str) -> set[str]:
        """Record ids (households or residents) one search term matches."""
        found = self.names.prefix(term)
        digits = phone_digits(term)
        if digits == term and len(digits) >= 3:
            found |= self.phones.prefix(digits[::-1])
        grams = _grams(term)
        candidates: set[str] | None = None
        for gram in sorted(grams, key=lambda g: len(self.grams.get(g, ()))):
            holders = self.grams.get(gram, set())
            candidates = set(holders) if candidates is None else candidates & holders
            if not candidates:
                break
        if candidates:
            found |= {rid for rid in candidates if term in self.address_text[rid]}
        return found

    def households(self, query: str, limit: int) -> list[str]:
        """Ids of live households matching every term, first ``limit`` in walking order.

        Starts from the term with the fewest matches (estimated by bisects) and checks the other terms household by
        household; when even that term is broad, walks the households in order and stops after ``limit`` matches.
        Same answer as ``households_by_sets``.
        """
        if limit <= 0:
            return []
        terms = list(dict.fromkeys(query.lower().split()))
        if not terms:
            return [household for _, household in self.walk[:limit]]
        estimates = {term: self.estimate(term) for term in terms}
        first = min(terms, key=estimates.__getitem__)
        checks = [(term, _tail(term)) for term in sorted(terms, key=estimates.__getitem__)]  # narrowest first
        if estimates[first] > max(self.broad, self.broad_per_row * limit):
            found: list[str] = []
            for _, household in self.walk:
                if all(self._holds(household, term, tail) for term, tail in checks):
                    found.append(household)
                    if len(found) == limit:
                        break
            return found
        owners = {self.owner[rid] for rid in self.match_term(first) if rid in self.owner}
        rest = [(term, tail) for term, tail in checks if term != first]
        live = [
            household
            for household in owners
            if household in self.order and all(self._holds(household, term, tail) for term, tail in rest)
        ]
        return heapq.nsmallest(limit, live, key=self._walking_key)

    def households_by_sets(self, query: str, limit: int) -> list[str]:
        """The straightforward answer: every term's full match set, intersected, then the first ``limit``."""
        terms = query.lower().split()
        if not terms:
            return heapq.nsmallest(limit, self.order, key=self._walking_key)
        found: set[str] | None = None
        for term in terms:
            owners = {self.owner[rid] for rid in self.match_term(term) if rid in self.owner}
            found = owners if found is None else found & owners
            if not found:
                return []
        live = [household for household in found or () if household in self.order]
        return heapq.nsmallest(limit, live, key=self._walking_key)

    def _walking_key(self, household: str) -> tuple[tuple[NaturalKey, ...], str]:
        return self.order[household], household

    def estimate(self, term: str) -> int:
        """An upper bound on how many records ``term`` matches, from bisects and set sizes only."""
        count = self.names.count(term)
        tail = _tail(term)
        if tail is not None:
            count += self.phones.count(tail)
        return count + min(len(self.grams.get(gram, ())) for gram in _grams(term))

    def household_holds(self, household: str, term: str) -> bool:
        """Whether the household or one of its residents matches ``term`` (as ``match_term`` would find it)."""
        return self._holds(household, term, _tail(term))

    def _holds(self, household: str, term: str, tail: str | None) -> bool:
        for record_id in self.members.get(household, ()):
            names, phones, _ = self._keys[record_id]
            if any(key.startswith(term) for key in names):
                return True
            if tail is not None and any(key.startswith(tail) for key in phones):
                return True
            if term in self.address_text.get(record_id, ""):
                return True
        return False


def address_key(household: dict[str, Any]) -> tuple[NaturalKey, ...]:
    """Sort households by building, unit and room the way a worker walks them (``domain.sorting``'s natural order)."""
    return tuple(natural_key(household.get(field)) for field in ("building", "unit", "room", "address"))


def _tail(term: str) -> str | None:
    """A term's digits reversed, as the phone index keys them, when the term can be a phone tail (3+ digits)."""
    digits = phone_digits(term)
    return digits[::-1] if digits == term and len(digits) >= 3 else None


def _grams(text: str, *, indexing: bool = False) -> set[str]:
    """Character pairs of a text (spaces ignored); when indexing, single characters too (for 1-char queries)."""
    compact = text.replace(" ", "")
    pairs = {compact[i : i + 2] for i in range(len(compact) - 1)}
    if indexing or len(compact) == 1:
        pairs |= set(compact)
    return pairs
