"""What roster cells say, read through the words table (``roster_words``): the words of a category cell (special
groups, tags, a residency, a disability's kind and grade), one or two phone numbers in one cell, and footer lines.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from field_agent.domain.errors import PhoneError
from field_agent.domain.phone import parse_phone
from field_agent.ledgers.roster_words import RosterWords, word_key

_SEPARATORS = "、,，;；/\n\r\t "
_PHONE_SEPARATORS = re.compile(r"[/、,，;；\n\r]+")
_ANNOTATION = re.compile(r"[(（][^)）]*[)）]")
_DISABILITY_WORD = re.compile(r"残疾人?|残")
_GRADE = re.compile(r"([一二三四1-4]|I{1,3}|IV)级")
_ID_LIKE = re.compile(r"\d{15}")
DISABILITY_NOTE = "残疾：{detail}"


@dataclass
class Categories:
    """What the words of category cells (特殊人群, 标签, 残疾类别) add up to."""

    groups: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    residency: str | None = None
    notes: list[str] = field(default_factory=list)
    unknown: str | None = None  # the first word the table does not know, as written


def words_of(text: str) -> list[str]:
    """The words of a cell, split at 、 , ; / spaces and line breaks, never inside brackets:
    ``残疾（肢体 二级）、高血压`` is two words."""
    found, current, depth = [], "", 0
    for char in unicodedata.normalize("NFKC", text):
        if char in "(（[【":
            depth += 1
        elif char in ")）]】" and depth:
            depth -= 1
        if char in _SEPARATORS and depth == 0:
            if current.strip():
                found.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        found.append(current.strip())
    return found


def read_categories(texts: list[str], words: RosterWords) -> Categories:
    """Every word of the cells through the table: a special group, a tag, a residency (外来务工), a disability with
    its kind and grade (``残疾（肢体二级）`` -> ``disabled`` and the note line ``残疾：肢体二级``)."""
    found = Categories()
    for text in texts:
        for word in words_of(text):
            key = word_key(word)
            if key in words.groups:
                group = words.groups[key]
                if group:
                    found.groups.add(group)
            elif key in words.tags:
                found.tags.add(words.tags[key])
            elif key in words.residency:
                found.residency = found.residency or words.residency[key]
            elif (detail := disability_detail(key, words)) is not None:
                found.groups.add("disabled")
                note = DISABILITY_NOTE.format(detail=detail) if detail else ""
                if note and note not in found.notes:
                    found.notes.append(note)
            elif found.unknown is None:
                found.unknown = word
    return found


def disability_detail(key: str, words: RosterWords) -> str | None:
    """The kind and grade a disability word names (``肢体二级``; '' for plain 残疾), None when it is not one:
    ``残疾(肢体二级)``, ``肢体残疾二级``, ``二级肢体残疾``, ``残疾人(视力)``, ``肢体二级``."""
    said_disabled = bool(_DISABILITY_WORD.search(key))
    rest = re.sub(r"[()\[\]【】:：,，、\s]|类别|等级|类", "", _DISABILITY_WORD.sub("", key))
    kind = next((k for k in words.disability_kinds if k in rest), None)
    if kind:
        rest = rest.replace(kind, "", 1)
    grade = None
    match = _GRADE.search(rest.upper())
    if match:
        written = match.group(0)
        grade = words.disability_grades.get(word_key(written), written)
        rest = rest.upper().replace(written, "", 1)
    if rest or not (said_disabled or (kind and grade)):
        return None
    return f"{kind or ''}{grade or ''}"


def split_phones(text: str) -> list[str]:
    """The phone numbers of a cell: one, or two when the cell holds two (``138… / 139…``, ``138…、0591-…``, two
    numbers on two lines or after a space); brackets (``（本人）``) are dropped. A cell that is no phone number at all
    is returned whole, for the rules to say what is wrong."""
    text = _ANNOTATION.sub(" ", text).strip()
    if not text or _is_phone(text):
        return [text] if text else []
    parts = [part.strip() for part in _PHONE_SEPARATORS.split(text) if part.strip()]
    if len(parts) > 1:
        return parts
    tokens = text.split()
    for cut in range(1, len(tokens)):
        first, second = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        if _is_phone(first) and _is_phone(second):
            return [first, second]
    return [text]


def _is_phone(text: str) -> bool:
    try:
        parse_phone(text)
    except PhoneError:
        return False
    return True


def is_footer(cells: list[str], id_cell: str, words: RosterWords) -> bool:
    """A footer line: its first non-empty cell opens with a footer word (合计…, or 制表人/审核人/日期/备注 and the
    like followed by a colon, a space or nothing), and it holds no ID number."""
    first = next((cell for cell in cells if cell.strip()), "")
    if not first or _ID_LIKE.search(id_cell):
        return False
    text = unicodedata.normalize("NFKC", first).strip().lower()
    for word in words.footer:
        if text.startswith(word):
            after = text[len(word) :]
            if not after or word.endswith("计") or after[0] in ":：_-—(（[【 \t" or after[0].isspace():
                return True
    return False
