"""Helpers every ``field-agent`` command shares: store location, passphrase, JSON output, errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import orjson
import platformdirs

PASSPHRASE_ENV = "FIELD_AGENT_PASSPHRASE"


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
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with a one-line message on stderr."""
    click.echo(f"field-agent: {message}", err=True)
    sys.exit(code)
