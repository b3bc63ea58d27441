"""The passphrase strength policy applied at ``init``, ``passwd`` and the app's first run.

A lost tablet is attacked offline, where no retry limit applies: Argon2id makes each guess cost ~0.3 s of one
core, but a 6-digit PIN is only 10^6 guesses (about 3.5 core-days), and a pinyin name with a birth date is a few
hundred million. A passphrase passes when zxcvbn, taught what Chinese passwords are made of (pinyin surnames and
given names, phone and ID numbers; dates, years and keyboard walks it knows), estimates at least 10^10 guesses.

A refusal is a ``WeakPassphrase`` with a reason code and parameters; the CLI and the app word it in the user's
language (``passphrase.<code>`` in the catalogs of field_agent/tui/i18n); its English text is for logs.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from typing import Any

from field_agent.store.errors import WeakPassphrase
from field_agent.store.passphrase_words import attack_dictionary, keyboard_walks, number_fragments

MIN_LENGTH = 12
MIN_DISTINCT = 6
MIN_GUESSES_LOG10 = 10  # zxcvbn's "strong protection from an offline slow-hash attack"
ZXCVBN_CHUNK = 72  # zxcvbn refuses longer input; longer passphrases are scored chunk by chunk (guesses multiply)

# Passwords and password stems at the top of every leaked-password list (Latin and pinyin), plus this product.
_COMMON_TEXT = """
    password passw0rd passwort motdepasse admin administrator root login welcome letmein iloveyou monkey dragon
    qwerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm abc abcd abcdef abcdefg abcdefgh qazwsx qwe qweasd
    football baseball sunshine princess master shadow superman batman trustno secret changeme default
    woaini woaini woaiwojia wodemima mima zhongguo beijing shanghai fuqing fujian aini
    fieldagent field agent grid wangge wanggeyuan tablet
"""
COMMON_STEMS = frozenset(_COMMON_TEXT.split())
KEYBOARD_ROWS = ("1234567890", "qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz", "qazwsxedcrfvtgbyhnujmikolp")

# What a zxcvbn match is, in the words of a refusal (reason "guessable", parameter "parts").
_DICTIONARY_PARTS = {
    "passwords": "common",
    "male_names": "name",
    "female_names": "name",
    "surnames": "name",
    "english_wikipedia": "words",
    "us_tv_and_film": "words",
}
_PATTERN_PARTS = {
    "spatial": "keyboard",
    "date": "date",
    "regex": "year",
    "sequence": "sequence",
    "repeat": "repeat",
}
PARTS = ("name", "date", "year", "phone", "id_number", "keyboard", "common", "words", "sequence", "repeat")
SEPARATORS = re.compile(r"[\s\-_.,/:;|+~]+")
_zxcvbn_lock = threading.Lock()  # zxcvbn keeps the user inputs in a module-level table


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH"))


def effective_length(passphrase: str) -> int:
    """Length where a Chinese character counts twice (it carries far more guesses than one Latin letter)."""
    return sum(2 if _is_cjk(char) else 1 for char in passphrase)


def _is_sequence(text: str) -> bool:
    lowered = text.lower()
    for row in KEYBOARD_ROWS:
        for source in (row, row[::-1]):
            if len(lowered) >= 4 and lowered in source * 3:
                return True
    return False


def _refuse(code: str, message: str, **params: Any) -> WeakPassphrase:
    return WeakPassphrase(message, code=code, params=params)


def check_passphrase(passphrase: str) -> None:
    """Raise WeakPassphrase with the reason when a passphrase would fall to offline guessing."""
    if passphrase != passphrase.strip():
        raise _refuse("space", "it starts or ends with a space, which is easy to get wrong when typing it again")
    if not passphrase:
        raise _refuse("empty", "it is empty")
    core = re.sub(r"[\W_]", "", passphrase)
    if not core:
        raise _refuse("symbols_only", "it has no letters or digits, only symbols and spaces")
    if core.isdigit():
        raise _refuse(
            "digits_only",
            "digits and separators only (a PIN, date or phone number): a stolen tablet is attacked offline, "
            "where a 6-digit PIN falls in days even behind Argon2id — PIN-only unlock is not offered; "
            "use a phrase of several words",
        )
    if effective_length(passphrase) < MIN_LENGTH:
        raise _refuse(
            "too_short",
            f"too short: use at least {MIN_LENGTH} characters (a Chinese character counts as two), "
            "e.g. three or four unrelated words",
            min_length=MIN_LENGTH,
        )
    if len(set(passphrase.lower())) < MIN_DISTINCT:
        raise _refuse(
            "repetitive",
            f"too repetitive: it uses fewer than {MIN_DISTINCT} different characters",
            min_distinct=MIN_DISTINCT,
        )
    letters = re.sub(r"[^a-z]", "", passphrase.lower())
    if not any(_is_cjk(c) for c in passphrase) and (letters in COMMON_STEMS or _only_common(letters)):
        raise _refuse("common", "it is built from a common password with digits or symbols added; pick unrelated words")
    stripped = re.sub(r"[\W_]", "", passphrase)
    if _is_sequence(stripped):
        raise _refuse("sequence", "it is a keyboard or alphabet sequence")
    log10, parts = estimate_guesses(passphrase)
    if log10 < MIN_GUESSES_LOG10:
        exponent = max(0, math.floor(log10))
        raise _refuse(
            "guessable",
            f"an offline attack would guess it in about 10^{exponent} tries (it is made of "
            f"{', '.join(parts) or 'guessable parts'}); at least 10^{MIN_GUESSES_LOG10} are needed: "
            "use several unrelated words",
            parts=parts,
            exponent=exponent,
            needed=MIN_GUESSES_LOG10,
        )


def estimate_guesses(passphrase: str) -> tuple[float, list[str]]:
    """log10 of zxcvbn's guess estimate and what the guessable parts are (see PARTS).

    Chinese is scored in pinyin (as an attacker's dictionary holds it: a homophone costs them nothing), and the
    passphrase is scored again without spaces and separators (``Lin Fang 1990-03-15``: joining parts with them is
    among an attacker's first rules); the lower estimate counts.
    """
    text = _as_pinyin(passphrase)
    fragments = number_fragments(re.sub(SEPARATORS, "", text))
    inputs = [*fragments, *attack_dictionary()]
    estimates = [_estimate(variant, inputs, fragments) for variant in {text, re.sub(SEPARATORS, "", text) or text}]
    return min(estimates, key=lambda estimate: estimate[0])


def _estimate(text: str, inputs: list[str], fragments: dict[str, str]) -> tuple[float, list[str]]:
    from zxcvbn import zxcvbn  # its word lists take ~0.5 s to load: only init, passwd and first run pay for them

    total = 0.0
    found: list[str] = []
    with _zxcvbn_lock:
        for start in range(0, len(text), ZXCVBN_CHUNK):
            result = zxcvbn(text[start : start + ZXCVBN_CHUNK], user_inputs=inputs)
            total += float(result["guesses_log10"])
            found.extend(_part_of(match, fragments) for match in result["sequence"])
    return total, [part for part in PARTS if part in found]


def _part_of(match: dict[str, Any], fragments: dict[str, str]) -> str:
    pattern = str(match.get("pattern") or "")
    if pattern == "dictionary":
        source = str(match.get("dictionary_name") or "")
        if source == "user_inputs":
            word = match.get("matched_word", "")
            return fragments.get(word) or ("keyboard" if word in _walks() else "name")
        return _DICTIONARY_PARTS.get(source, "words")
    return _PATTERN_PARTS.get(pattern, "")


def _walks() -> frozenset[str]:
    return frozenset(keyboard_walks())


def _as_pinyin(passphrase: str) -> str:
    if not any(_is_cjk(c) for c in passphrase):
        return passphrase
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(passphrase))


def _only_common(letters: str) -> bool:
    """True when the letters are one or more common stems glued together (e.g. 'passwordpassword')."""
    if not letters:
        return True
    reachable = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        reachable[end] = any(
            reachable[start] and letters[start:end] in COMMON_STEMS for start in range(max(0, end - 16), end)
        )
    return reachable[-1]
