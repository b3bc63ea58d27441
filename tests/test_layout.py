"""tests/ mirrors the packages, and test code reaches other code by import, never by editing sys.path."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# tests/<dir> -> the package it tests; e2e runs the whole system (server and devices) over loopback
PACKAGE_OF = {"server": ROOT / "server_stub", "e2e": None}


def test_every_test_directory_matches_a_package() -> None:
    strays = []
    for directory in sorted(p for p in TESTS.iterdir() if p.is_dir() and any(p.glob("*.py"))):
        package = PACKAGE_OF.get(directory.name, ROOT / "field_agent" / directory.name)
        if package is not None and not any(package.glob("*.py")):
            strays.append(directory.name)
    assert strays == [], f"tests/ directories that match no package: {strays}"


SYS_PATH_EDIT = re.compile(r"sys\.path\s*(\.\s*(insert|append|extend)\s*\(|\+?=|\[)")
TESTS_IMPORT = re.compile(r"^\s*(from|import)\s+tests\b", re.MULTILINE)


def test_no_test_edits_sys_path_or_imports_through_tests_prefix() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != Path(__file__).name and SYS_PATH_EDIT.search(text):
            offenders.append(f"{path.relative_to(ROOT)}: edits sys.path")
        if TESTS_IMPORT.search(text):
            offenders.append(f"{path.relative_to(ROOT)}: imports through `tests.`")
    assert offenders == []
