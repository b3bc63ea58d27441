"""The words table: what the words real rosters hold mean for the records (``roster_words.json``, shipped here),
merged with a town's own file (``--words FILE``, the same sections).

Sections: ``residency`` (word -> resident/floating/away), ``groups`` (word -> a recorded special group, or null
for a word accepted and not stored: a group the ID number already gives, 无), ``tags`` (word -> the tag stored,
up to 20 characters), ``disability`` (``kinds`` and ``grades`` of a disability certificate, kept as a note
line), ``footer`` (the words that open a footer line: 合计, 制表人, …). docs/LEDGERS.md describes the format.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from field_agent.domain.enums import RECORDED_GROUPS, RESIDENCY_TYPES
from field_agent.domain.schema import SCHEMAS
from field_agent.ledgers.errors import RosterFileError

DEFAULT_WORDS = Path(__file__).with_name("roster_words.json")
SECTIONS = ("residency", "groups", "tags", "disability", "footer")
TAG_LENGTH = SCHEMAS["resident"]["tags"].max_length


def word_key(text: str) -> str:
    """How words are compared: NFKC (full-width forms and brackets are plain), no spaces, one case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


@dataclass(frozen=True)
class RosterWords:
    """The merged table, keyed by ``word_key``."""

    residency: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str | None] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    disability_kinds: tuple[str, ...] = ()
    disability_grades: Mapping[str, str] = field(default_factory=dict)
    footer: tuple[str, ...] = ()

    def merged(self, other: RosterWords) -> RosterWords:
        """These words with ``other``'s added over them (a town's file over the defaults)."""
        kinds = self.disability_kinds + tuple(k for k in other.disability_kinds if k not in self.disability_kinds)
        footer = self.footer + tuple(w for w in other.footer if w not in self.footer)
        return RosterWords(
            residency={**self.residency, **other.residency},
            groups={**self.groups, **other.groups},
            tags={**self.tags, **other.tags},
            disability_kinds=kinds,
            disability_grades={**self.disability_grades, **other.disability_grades},
            footer=footer,
        )


def load_words(path: Path | None = None) -> RosterWords:
    """The shipped words, with a town's file merged over them when ``path`` is given."""
    defaults = _defaults()
    return defaults if path is None else defaults.merged(_read(Path(path)))


@cache
def _defaults() -> RosterWords:
    return _read(DEFAULT_WORDS)


def resolve_words(words: RosterWords | Path | str | None) -> RosterWords:
    """A words table from what a caller gives: a table, a town's file, or nothing (the defaults)."""
    if isinstance(words, RosterWords):
        return words
    return load_words(Path(words) if words is not None else None)


def _read(path: Path) -> RosterWords:
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError:
        raise RosterFileError("words.unreadable", file=name) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 0)
        raise RosterFileError("words.not_json", file=name, line=line) from None
    if not isinstance(data, dict):
        raise RosterFileError("words.not_object", file=name)
    unknown = sorted(set(data) - {*SECTIONS, "about"})
    if unknown:
        raise RosterFileError("words.section", file=name, section=unknown[0], sections=list(SECTIONS))
    residency = _mapping(data, "residency", name, lambda v: v in RESIDENCY_TYPES, RESIDENCY_TYPES)
    groups = _mapping(data, "groups", name, lambda v: v is None or v in RECORDED_GROUPS, (*RECORDED_GROUPS, "null"))
    tags = _mapping(data, "tags", name, lambda v: isinstance(v, str) and 0 < len(v.strip()) <= TAG_LENGTH, ())
    disability = data.get("disability", {})
    if not isinstance(disability, dict) or set(disability) - {"kinds", "grades"}:
        raise RosterFileError("words.disability", file=name)
    kinds = _word_list(disability, "kinds", name, "disability")
    grades = _mapping(disability, "grades", name, lambda v: isinstance(v, str) and bool(v.strip()), (), "disability")
    return RosterWords(
        residency=residency,
        groups=groups,
        tags={key: str(value).strip() for key, value in tags.items()},
        disability_kinds=tuple(word_key(kind) for kind in kinds),
        disability_grades={key: str(value).strip() for key, value in grades.items()},
        footer=tuple(word_key(word) for word in _word_list(data, "footer", name, "footer")),
    )


def _mapping(
    data: Mapping[str, Any],
    section: str,
    name: str,
    valid: Callable[[Any], bool],
    choices: tuple[str, ...],
    parent: str = "",
) -> dict[str, Any]:
    where = f"{parent}.{section}" if parent else section
    entries = data.get(section, {})
    if not isinstance(entries, dict):
        raise RosterFileError("words.not_mapping", file=name, section=where)
    found = {}
    for word, value in entries.items():
        if not word_key(word):
            raise RosterFileError("words.empty_word", file=name, section=where)
        if not valid(value):
            if choices:
                raise RosterFileError("words.value", file=name, section=where, word=word, choices=list(choices))
            raise RosterFileError("words.tag", file=name, section=where, word=word, length=TAG_LENGTH)
        found[word_key(word)] = value
    return found


def _word_list(data: Mapping[str, Any], section: str, name: str, where: str) -> list[str]:
    entries = data.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, str) and word_key(e) for e in entries):
        raise RosterFileError("words.not_list", file=name, section=where)
    return entries
