"""Helpers every ``field-agent`` command shares: store location, passphrase, JSON output, errors."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import orjson
import platformdirs

from field_agent.domain.i18n import language_or_default
from field_agent.domain.printable import inert, inert_line

PASSPHRASE_ENV = "FIELD_AGENT_PASSPHRASE"
_JSON_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


def default_store_path() -> Path:
    return Path(platformdirs.user_data_dir("field-agent", appauthor=False)) / "store"


def store_path(ctx: click.Context) -> Path:
    return ctx.find_root().obj["store_path"]


def read_passphrase(prompt: str = "Passphrase", confirm: bool = False) -> str:
    """The passphrase from FIELD_AGENT_PASSPHRASE, else from a hidden prompt."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        fail(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def echo_json(data: Any) -> None:
    """JSON on stdout. JSON escapes C0 controls (ESC is written ``\\u001b``) but not DEL and the C1 range, which
    some terminals obey (U+009B is CSI): those are escaped too; the parsed value is the same."""
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    click.echo(_JSON_UNESCAPED_CONTROLS.sub(lambda match: f"\\u{ord(match.group()):04x}", text))


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print human-readable text: control characters (a record value's terminal escapes) shown as ``\\x1b``."""
    click.echo(inert(message), err=err, nl=nl)


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with a one-line message on stderr (control characters and line breaks in it shown as escapes)."""
    click.echo(f"field-agent: {inert_line(message)}", err=True)
    sys.exit(code)


def language(ctx: click.Context) -> str:
    """The language of messages: --lang or FIELD_AGENT_LANG, else Chinese."""
    lang = ctx.find_root().obj.get("lang")
    return language_or_default(lang)
