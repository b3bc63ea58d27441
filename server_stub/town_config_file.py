"""The office's town configuration file: JSON (one object, the settings to change)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from field_agent.domain.messages import msg
from field_agent.domain.town import Problem, TownConfigError


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in ``path``; TownConfigError when it cannot be read as one JSON object."""
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise TownConfigError([Problem(path.name, msg("town.not_map"))]) from None
    if not isinstance(data, dict):
        raise TownConfigError([Problem(path.name, msg("town.not_map"))])
    return data
