"""The passphrase strength policy applied at ``init`` and ``passwd``.

A lost tablet is attacked offline, where no retry limit applies: Argon2id makes each guess cost ~0.3 s, but a
6-digit PIN is only 10^6 guesses (about 3.5 core-days), so PINs and other guessable secrets are refused outright.
"""

from __future__ import annotations

import re
import unicodedata

from field_agent.store.errors import WeakPassphrase

MIN_LENGTH = 12
MIN_DISTINCT = 6

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


def check_passphrase(passphrase: str) -> None:
    """Raise WeakPassphrase with the reason when a passphrase would fall to offline guessing."""
    if passphrase != passphrase.strip():
        raise WeakPassphrase("it starts or ends with a space, which is easy to get wrong when typing it again")
    if not passphrase:
        raise WeakPassphrase("it is empty")
    core = re.sub(r"[\W_]", "", passphrase)
    if not core:
        raise WeakPassphrase("it has no letters or digits, only symbols and spaces")
    if core.isdigit():
        raise WeakPassphrase(
            "digits and separators only (a PIN, date or phone number): a stolen tablet is attacked offline, "
            "where a 6-digit PIN falls in days even behind Argon2id — PIN-only unlock is not offered; "
            "use a phrase of several words"
        )
    if effective_length(passphrase) < MIN_LENGTH:
        raise WeakPassphrase(
            f"too short: use at least {MIN_LENGTH} characters (a Chinese character counts as two), "
            "e.g. three or four unrelated words"
        )
    if len(set(passphrase.lower())) < MIN_DISTINCT:
        raise WeakPassphrase("too repetitive: it uses fewer than 6 different characters")
    letters = re.sub(r"[^a-z]", "", passphrase.lower())
    if not any(_is_cjk(c) for c in passphrase) and (letters in COMMON_STEMS or _only_common(letters)):
        raise WeakPassphrase("it is built from a common password with digits or symbols added; pick unrelated words")
    stripped = re.sub(r"[\W_]", "", passphrase)
    if _is_sequence(stripped):
        raise WeakPassphrase("it is a keyboard or alphabet sequence")


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
