"""The crash-state tests run in one xdist worker, so the recorded runs and their checks are made once."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "crashstates" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("crashstates"))
