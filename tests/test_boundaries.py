"""The layers stay apart: the backend never loads Textual; the terminal app never loads an HTTP client."""

from __future__ import annotations

import subprocess
import sys

BACKEND = [
    "field_agent.domain.envelope",
    "field_agent.domain.hlc",
    "field_agent.protocol.merge",
    "field_agent.protocol.wire",
    "field_agent.cli.main",
]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(output.split())


def test_backend_never_imports_textual() -> None:
    loaded = _loaded_after_import(
        BACKEND + _optional(["field_agent.store", "field_agent.sync.agent", "server_stub.app"])
    )
    assert "textual" not in loaded
    assert "field_agent.tui" not in loaded


def _optional(modules: list[str]) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m.split(".")[0]) and _exists(m)]


def _exists(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
