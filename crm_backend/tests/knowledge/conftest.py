"""Knowledge tests: each starts with an empty in-process index (the two test databases share the process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crm_backend.console import auth
from crm_backend.knowledge import live
from testing.handoff import login


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    live.reset()
    auth.set_limiter(auth.LoginRateLimiter(None))
    yield
    live.reset()
    auth.set_limiter(None)


@pytest.fixture
def supervisor(client: TestClient) -> TestClient:
    """`client`, logged in to the console as the demo supervisor (CSRF header set)."""
    login(client, "supervisor")
    return client
