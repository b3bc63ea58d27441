"""schemathesis against the published OpenAPI document: no 5xx, and every answer matches the documented schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from field_agent.domain.ids import new_node_id
from field_agent.protocol.wire import EnrollRequest
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.db import open_database
from server_stub.enrolment import enroll, issue_code
from server_stub.records import create_grid


@pytest.fixture
def enrolled(tmp_path) -> Iterator[tuple[object, str]]:
    db = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    grid = create_grid(db, town="玉屏街道", name="一网格")
    code = issue_code(db, grid, "王芳", "leader", 3_600_000)["code"]
    token = enroll(db, EnrollRequest(code=code, node_id=new_node_id())).token
    yield create_app(db, Settings(enroll_attempts=10_000)), token
    db.close()


@pytest.fixture
def api_schema(enrolled: tuple[object, str]) -> schemathesis.BaseSchema:
    app, _ = enrolled
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_conforms_and_none_is_a_server_error(case, enrolled: tuple[object, str]) -> None:
    _, token = enrolled
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
