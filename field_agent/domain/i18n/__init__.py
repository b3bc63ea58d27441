"""The domain's messages (``domain/messages.py``) in Chinese and English: one catalog per language, keyed like
``MESSAGES`` (``phone.mobile_digits``), for every layer that says a rule's message to a person (the terminal app,
the roster import of the tablet and the server).

Reading the two small JSON files shipped beside this module is the only I/O; they are read once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from field_agent.domain.messages import Message

LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
CATALOG_DIR = Path(__file__).parent


def language_or_default(language: str | None) -> str:
    """``language`` when it is one of ``LANGUAGES``, else Chinese: every layer's catalog picks its language so."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@cache
def domain_catalog(language: str) -> Mapping[str, str]:
    """The key -> text mapping of one language (``zh_CN`` or ``en``)."""
    if language not in LANGUAGES:
        raise ValueError(f"no domain catalog for language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return json.loads((CATALOG_DIR / f"{language}.json").read_text(encoding="utf-8"))


def say(message: Message, language: str) -> str:
    """``message`` in ``language``, its parameters that are messages too; the English text when the catalog lacks
    the key (or for a language it does not have)."""
    catalog = domain_catalog(language) if language in LANGUAGES else {}
    text = catalog.get(message.key)
    if text is None:
        return str(message)
    params = {
        name: say(value, language) if isinstance(value, Message) else value for name, value in message.params.items()
    }
    return text.format(**params)
