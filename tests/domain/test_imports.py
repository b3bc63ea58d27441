"""The domain package stays pure: no storage, network or UI library is loaded by importing it."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import field_agent.domain

FORBIDDEN = ("textual", "tinydb", "httpx", "fastapi", "starlette", "uvicorn", "cryptography", "sqlite3", "psycopg")

# coverage (make test) would load sqlite3 into the child to store its data: this child is not measured
UNMEASURED = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}


def test_domain_imports_no_storage_network_or_ui() -> None:
    modules = [f"field_agent.domain.{m.name}" for m in pkgutil.iter_modules(field_agent.domain.__path__)]
    assert "field_agent.domain.validation" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sys.modules))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=UNMEASURED
        ).stdout.split()
    )
    assert not {name for name in loaded if name.split(".")[0] in FORBIDDEN}
    assert not {
        name for name in loaded if name.startswith(("field_agent.store", "field_agent.sync", "field_agent.tui"))
    }
