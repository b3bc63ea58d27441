"""The town server's packages: ``pip install 'field-agent[server]'`` adds them; a tablet's install has none of them.

The tablet (store, sync agent, terminal app, ``field-agent``) runs without them; ``field-server`` and
``field-agent demo`` (which runs a local town server) look them up first and name what to install.
"""

from __future__ import annotations

import importlib.util

# the import names of pyproject.toml's ``server`` extra (tests/test_install.py keeps the two the same)
SERVER_PACKAGES = ("fastapi", "starlette", "uvicorn", "jinja2", "psycopg")
INSTALL_SERVER = "pip install 'field-agent[server]'"


def missing_server_packages() -> list[str]:
    """The server's packages this interpreter cannot import (looked up, not imported: that stays cheap)."""
    missing = []
    for name in SERVER_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing
