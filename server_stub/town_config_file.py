"""The office's town configuration file: JSON (one object, the settings to change) or an Excel workbook (a sheet
per section: ``field_agent/domain/town_sheets.py``, whose problems are named by cell, ``角色!B3``)."""

from __future__ import annotations

from pathlib import Path

import orjson

from field_agent.domain.messages import msg
from field_agent.domain.town import Problem, TownConfigError
from field_agent.domain.town_sheets import ConfigFile, from_workbook
from field_agent.ledgers.sheets import read_sheets


def read_config_file(path: Path) -> ConfigFile:
    """The settings in ``path`` (.xlsx: a workbook; anything else: JSON); TownConfigError when it cannot be read as
    settings, RosterFileError (one line) for a workbook that cannot be opened."""
    if path.suffix.lower() == ".xlsx":
        return from_workbook({sheet.name: sheet.rows for sheet in read_sheets(path)}, path.name)
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise TownConfigError([Problem(path.name, msg("town.not_map"))]) from None
    if not isinstance(data, dict):
        raise TownConfigError([Problem(path.name, msg("town.not_map"))])
    return ConfigFile(data)
