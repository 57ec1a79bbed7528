"""Schemathesis against the served schema: generated requests never cause a 5xx.

Each operation gets requests generated from its own OpenAPI description (valid and
invalid bodies and queries), sent over HTTP to uvicorn on loopback with the token;
every answer must be a documented, non-server-error response.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
from sqlmodel import select

from core import db
from core.models import User
from core.settings import Settings
from tests.api_support import TOKEN, serving, with_token

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def test_generated_requests_get_no_server_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_settings = with_token(monkeypatch, TOKEN)
    with serving() as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        labels = sorted(operation.label for operation in operations)
        assert labels == [
            "GET /api/cron/status",
            "POST /api/cron/manage",
            "POST /api/webhooks/gmail-connected",
        ]
        seen = {operation.label: _exercise(operation, url) for operation in operations}

    # Generated requests got past validation into the services (an unknown tenant
    # is a 404 from the cron service), and invalid ones were refused with 422.
    assert {404, 422} <= seen["GET /api/cron/status"]
    assert {404, 422} <= seen["POST /api/cron/manage"]
    assert 422 in seen["POST /api/webhooks/gmail-connected"]
    # Negative cases also break the body's JSON (400) and the bearer header (401).
    assert seen["POST /api/webhooks/gmail-connected"] <= {200, 400, 401, 422}
    with db.session_scope(api_settings) as session:
        created = len(session.exec(select(User)).all())
    assert (created > 0) == (200 in seen["POST /api/webhooks/gmail-connected"])


def _exercise(operation: Any, url: str) -> set[int]:
    """Run the generated cases; the set of status codes they were answered with."""
    statuses: set[int] = set()

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    return statuses
