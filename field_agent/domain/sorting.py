"""Natural order for buildings, units, rooms and addresses: 1号楼, 2号楼, 10号楼 (not 1, 10, 11, 2).

Every list of the terminal app and every ledger sorts by this key, so a worker sees the same order everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[int, int | str, str], ...]


def natural_key(text: object) -> NaturalKey:
    """Sort key comparing digit runs as numbers: ``2号楼`` < ``10号楼``, ``3-201`` < ``3-1102``.

    The text is NFKC-normalised first, so full-width digits and letters typed with a Chinese input method
    (``１０号楼``, ``Ａ座``) sort as their ASCII forms; letters compare without case. Within one position a number
    sorts before text; ``None`` and ``""`` give the empty key, which sorts first. Two texts get the same key only
    when they are the same after NFKC normalisation.
    """
    if text is None:
        return ()
    return _key(str(text))


@lru_cache(maxsize=65_536)
def _key(text: str) -> NaturalKey:
    normal = unicodedata.normalize("NFKC", text)
    parts: list[tuple[int, int | str, str]] = []
    for index, part in enumerate(_DIGITS.split(normal)):
        if not part:
            continue
        if index % 2:  # the split puts the digit runs at odd positions
            parts.append((0, int(part), part))
        else:
            parts.append((1, part.casefold(), part))
    return tuple(parts)


def natural_sorted(texts: list[str]) -> list[str]:
    """``texts`` in natural order."""
    return sorted(texts, key=natural_key)
