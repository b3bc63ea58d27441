"""A town server shared by the end-to-end tests (each test makes its own grid)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Town


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    server = Town(tmp_path_factory.mktemp("town")).start()
    yield server
    server.stop()
