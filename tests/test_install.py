"""One distribution, two installs: ``pip install field-agent`` is the tablet, ``field-agent[server]`` adds the town
server's packages. The tablet installs, imports and runs without any of them."""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from field_agent.server_extra import SERVER_PACKAGES

REPO = Path(__file__).resolve().parents[1]
SERVER_ONLY = {"fastapi", "starlette", "uvicorn", "psycopg", "jinja2"}
TABLET_MODULES = ["field_agent.store", "field_agent.sync.agent", "field_agent.tui.app", "field_agent.cli.main"]
INSTALL_LINE = "pip install 'field-agent[server]'"


@pytest.fixture(scope="module")
def wheel_metadata(tmp_path_factory: pytest.TempPathFactory) -> email.message.Message:
    """METADATA of the wheel pip builds from a copy of the source (building in the tree would leave build/ there)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for package in ("field_agent", "server_stub"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("field_agent-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(metadata).decode())


def _requirements(metadata: email.message.Message, extra: str | None) -> set[str]:
    """The names the base install requires (extra None), or those one extra adds."""
    names = set()
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        marker = str(requirement.marker or "")
        if (extra is None and "extra" not in marker) or (extra is not None and f'extra == "{extra}"' in marker):
            names.add(canonicalize_name(requirement.name))
    return names


def test_the_tablet_wheel_requires_none_of_the_servers_packages(wheel_metadata) -> None:
    base = _requirements(wheel_metadata, None)
    assert not base & SERVER_ONLY, f"the tablet install pulls in {sorted(base & SERVER_ONLY)}"
    # what the tablet itself uses stays in the base install
    assert {"textual", "tinydb", "httpx", "cryptography", "pydantic", "openpyxl"} <= base


def test_the_server_extra_lists_the_servers_packages(wheel_metadata) -> None:
    assert "server" in wheel_metadata.get_all("Provides-Extra")
    server = _requirements(wheel_metadata, "server")
    assert server == SERVER_ONLY
    # field-server and field-agent demo look up exactly these before they start
    assert set(SERVER_PACKAGES) == server
    # make test installs .[dev]: the tests need the server too
    dev = [Requirement(line) for line in wheel_metadata.get_all("Requires-Dist") if 'extra == "dev"' in line]
    assert any(r.name == "field-agent" and r.extras == {"server"} for r in dev)


def _loaded_by(code: str, env: dict[str, str] | None = None) -> set[str]:
    code += "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return {name.partition(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


def test_importing_the_tablet_loads_none_of_the_servers_packages() -> None:
    loaded = _loaded_by("".join(f"import {module}\n" for module in TABLET_MODULES))
    assert not loaded & (SERVER_ONLY | {"server_stub"})


def test_a_sqlite_town_server_loads_neither_psycopg_nor_openpyxl(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    code = "from server_stub.app import create_app\nfrom server_stub.db import open_database\n"
    code += f"create_app(open_database({url!r}))"
    loaded = _loaded_by(code)
    assert "fastapi" in loaded  # the app was built
    assert "psycopg" not in loaded  # only a PostgreSQL URL loads it
    assert "openpyxl" not in loaded  # only writing or reading a workbook loads it


# --- a machine with the tablet install only: the server's packages cannot be imported ---------------------------

BLOCKER = f"""
import sys

BLOCKED = {sorted(SERVER_ONLY)!r}


class NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled)
"""


@pytest.fixture
def tablet_only(tmp_path: Path) -> dict[str, str]:
    """The environment of a process (and of its children) on which the server extra is not installed."""
    site = tmp_path / "tablet-only"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _run(env: dict[str, str], entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"from {entry} import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_tablet_runs_without_the_server_extra(tablet_only, tmp_path: Path) -> None:
    assert not _loaded_by("".join(f"import {module}\n" for module in TABLET_MODULES), tablet_only) & SERVER_ONLY
    env = {**tablet_only, "FIELD_AGENT_PASSPHRASE": "correct horse battery staple"}
    store = str(tmp_path / "store")
    made = _run(env, "field_agent.cli.main", "--store", store, "init", "--grid", "grid-1")
    assert made.returncode == 0, made.stderr
    status = _run(env, "field_agent.cli.main", "--store", store, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["grid"] == "grid-1"


def test_field_server_without_the_server_extra_says_what_to_install(tablet_only, tmp_path: Path) -> None:
    done = _run(tablet_only, "server_stub.cli", "--data-dir", str(tmp_path / "server"), "serve", "--port", "0")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line
    assert done.stderr.startswith("field-server: ") and INSTALL_LINE in done.stderr
    assert "fastapi" in done.stderr and "uvicorn" in done.stderr


@pytest.mark.parametrize(
    ("lang", "words"), [(None, "镇服务器"), ("en", "the demo runs a local town server")], ids=["zh_CN", "en"]
)
def test_demo_without_the_server_extra_says_what_to_install(
    tablet_only, tmp_path: Path, lang: str | None, words: str
) -> None:
    language = ["--lang", lang] if lang else []
    tablet_only.pop("FIELD_AGENT_LANG", None)
    done = _run(tablet_only, "field_agent.cli.main", *language, "demo", "--dir", str(tmp_path / "demo"), "--no-tui")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr and INSTALL_LINE in done.stderr
    assert not (tmp_path / "demo").exists()  # nothing was started or written
