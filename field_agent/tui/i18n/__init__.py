"""Message catalogs of the terminal app (zh_CN by default, complete English) and the choice of language."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from field_agent.domain.i18n import DEFAULT_LANGUAGE, LANGUAGES, domain_catalog

CATALOG_DIR = Path(__file__).parent


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    """The flat key -> message mapping of one language."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return json.loads((CATALOG_DIR / f"{language}.json").read_text(encoding="utf-8"))


@cache
def domain_entries(language: str) -> Mapping[str, str]:
    """The domain's messages (``field_agent/domain/i18n``) as ``domain.<key>`` entries: the app's catalogs do not
    repeat them."""
    return {f"domain.{key}": text for key, text in domain_catalog(language).items()}


@cache
def _with_domain(language: str) -> Mapping[str, str]:
    return {**domain_entries(language), **load_catalog(language)}


def language_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The language LANG/LC_ALL/LC_MESSAGES ask for, if we have it (``en_US.UTF-8`` -> ``en``)."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if not value:
            continue
        code = value.split(".")[0]
        if code in LANGUAGES:
            return code
        if code.startswith("zh"):
            return "zh_CN"
        if code.startswith("en"):
            return "en"
    return None


def resolve_language(explicit: str | None, setting: str | None, environ: Mapping[str, str] | None = None) -> str:
    """--lang wins, then the store's setting, then LANG, then Chinese."""
    for candidate in (explicit, setting, language_from_env(environ)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


class Translator:
    """Looks up messages of one language; a missing key shows itself so it is noticed, never crashes. ``domain.*``
    keys come from the domain's catalog (``field_agent/domain/i18n``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = _with_domain(language)

    def __call__(self, key: str, /, **values: Any) -> str:
        """The message for ``key``, formatted with ``values``; positional-only so a message may take ``{key}``."""
        message = self._messages.get(key)
        if message is None:
            return f"<{key}>"
        return message.format(**values) if values else message

    def n(self, key: str, count: int, **values: Any) -> str:
        """A message about ``count`` things, in the right plural form: ``key.one`` when ``count`` is 1 and the
        language has that form (English: "1 change"), ``key`` otherwise ("5 changes"; Chinese has one form)."""
        one = f"{key}.one"
        chosen = one if count == 1 and one in self._messages else key
        return self(chosen, count=count, **values)

    def has(self, key: str) -> bool:
        return key in self._messages

    def label(self, prefix: str, value: Any) -> str:
        """The label of an enumerated value (``label("outcome", "met")``), the raw value when unknown."""
        key = f"{prefix}.{value}"
        return self._messages.get(key, str(value))
