"""Special groups and home-sampling eligibility are defined once, in ``field_agent/domain/groups.py``: no module of
the ledgers, the terminal app, the sync agent, the store or the server re-derives them (age limits, the derivation
of age groups, the rule's residency and isolation terms)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import field_agent
import server_stub

# the domain's own building blocks: code outside the domain asks groups.py for answers instead
INTERNALS = {"ELDERLY_AGE", "VERY_OLD_AGE", "INFANT_UNDER", "DERIVED_GROUPS", "derived_groups", "resident_age"}
RULE_TERMS = {"excluded_residency", "home_isolation"}
AGE_GROUP_KEYS = {"elderly", "very_old", "infant"}


def _modules() -> list[Path]:
    package = Path(field_agent.__file__).parent
    found = [p for p in package.rglob("*.py") if "domain" not in p.relative_to(package).parts]
    return sorted(found + list(Path(server_stub.__file__).parent.rglob("*.py")))


def _copies(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in INTERNALS:
            found.append(f"line {node.lineno}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in INTERNALS | RULE_TERMS:
            found.append(f"line {node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in INTERNALS]
        elif isinstance(node, ast.Set | ast.Compare):  # a set or test of age groups is the derivation again
            keys = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in AGE_GROUP_KEYS}
            if keys:
                found.append(f"line {node.lineno}: tests age groups {sorted(keys)}")
    return found


def test_the_modules_are_found() -> None:
    names = {p.name for p in _modules()}
    assert {"facts.py", "people.py", "labels.py", "office.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_outside_the_domain_re_derives_special_groups(path: Path) -> None:
    copies = _copies(ast.parse(path.read_text(encoding="utf-8")))
    assert not copies, f"{path.name} re-implements a rule of field_agent/domain/groups.py: {'; '.join(copies)}"
