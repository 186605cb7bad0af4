"""schemathesis against the CRM's own OpenAPI schema, on SQLite and on PostgreSQL.

Every operation gets `KEFU_CONTRACT_EXAMPLES` generated requests (default 25) sent through the
ASGI app with the service token AND a logged-in supervisor's cookie + CSRF token, so they reach the
handlers. Two checks: no 5xx, and every status code returned is documented in the operation's
`responses`. Left out: logout (it would end the session the other requests use) and the endless
console event stream (nothing to generate; `tests/console/test_live_server.py` covers it).

Run on its own: `.venvs/crm/bin/python -m pytest crm_backend/tests/contract -q -p no:cacheprovider`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from crm_backend.console import auth
from crm_backend.core.config import get_settings
from crm_backend.text.analyzer import warm_up
from testing.crm_seeding import app_on, seeded_engine
from testing.services import ServiceDown, fresh_database_url

EXAMPLES = int(os.environ.get("KEFU_CONTRACT_EXAMPLES", "25"))
LEFT_OUT = {"/api/v1/auth/logout", "/api/v1/console/events"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def crm_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            demo_now: datetime) -> Iterator[FastAPI]:
    """A CRM app on a fresh migrated + seeded database of the given kind (real commits)."""
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('contract')) / 'contract.db'}"
    else:
        try:
            url = fresh_database_url(f"{os.environ.get('KEFU_TEST_PG_DB', 'kefu_test')}_contract")
        except ServiceDown as error:
            pytest.fail(str(error), pytrace=False)
    seeded_engine(url, now=demo_now).dispose()
    # The first text analysis trains or loads its spaCy models (up to a minute on a busy machine): do it
    # here, so that no generated request waits for it.
    warm_up()
    # Nothing listens on RASA_URL: agent replies queue as `pending` at once instead of waiting on Rasa.
    with app_on(url, RASA_URL="http://127.0.0.1:9") as app:
        yield app


@pytest.fixture(scope="module")
def crm_headers(crm_app: FastAPI) -> dict[str, str]:
    """Service token + a supervisor's console session: together they open every route."""
    with TestClient(crm_app) as client:
        response = client.post("/api/v1/auth/login", json={"username": "supervisor", "password": "supervisor-pass"})
        assert response.status_code == 200, response.text
        cookie = client.cookies[auth.SESSION_COOKIE]
        return {"Authorization": f"Bearer {get_settings().crm_service_token}",
                "Cookie": f"{auth.SESSION_COOKIE}={cookie}", "X-CSRF-Token": response.json()["csrf_token"]}


@pytest.fixture(scope="module")
def api_schema(crm_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", crm_app)


def _operations() -> list[tuple[str, str]]:
    from crm_backend.main import create_app

    paths = create_app().openapi()["paths"]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods if path not in LEFT_OUT]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_error_and_every_status_documented(method: str, path: str, api_schema: Any,
                                                     crm_headers: dict[str, str]) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=crm_headers, checks=[not_a_server_error, status_code_conformance], timeout=60)

    check()
