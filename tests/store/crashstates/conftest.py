"""The crash-state tests run in one xdist worker, so the recorded runs and their checks are made once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .checker import SCRATCH


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "crashstates" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("crashstates"))


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory in memory (tmpfs) when there is one, for the recorded runs: their fsyncs are recorded, and
    need not wait on the disk."""
    path = Path(tempfile.mkdtemp(prefix="crash-run-", dir=SCRATCH))
    yield path
    shutil.rmtree(path, ignore_errors=True)
