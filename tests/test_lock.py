"""requirements-lock.txt (what `make test` and `make demo` install) pins every dependency pyproject.toml declares,
with all its extras, at a version inside the declared range; `make lock` regenerates it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements-lock.txt: not an exact pin: {line!r}"
            pins[canonicalize_name(name.split("[")[0])] = Version(version.split(";")[0].strip())
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {}).values()
    return [Requirement(text) for text in [*project["dependencies"], *(r for extra in extras for r in extra)]]


def test_lock_pins_every_declared_dependency_inside_its_range() -> None:
    pins = _pins()
    problems = []
    for requirement in _declared():
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        if canonicalize_name(requirement.name) == "field-agent":  # an extra of this checkout (dev → server)
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name}: missing")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}: {pinned} outside {requirement.specifier}")
    assert problems == [], f"requirements-lock.txt is stale, run `make lock`: {problems}"
