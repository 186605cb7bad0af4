"""Per-test state shared by the handoff, console and dashboard tests: fake Rasa, fresh bus and limiter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.console import auth
from crm_backend.core import bus
from crm_backend.handoff import live
from testing.handoff import FakeRasa


@pytest.fixture
def rasa(monkeypatch: pytest.MonkeyPatch) -> FakeRasa:
    fake = FakeRasa()
    monkeypatch.setattr(live, "rasa_client", fake.client)
    return fake


@pytest.fixture(autouse=True)
def fresh_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test gets its own in-process bus and login rate limiter, and all agents start offline."""
    bus.set_bus(bus.InProcessBus())
    auth.set_limiter(auth.LoginRateLimiter(None))
    if "session" in request.fixturenames:
        session: Session = request.getfixturevalue("session")
        session.execute(update(Agent).values(is_online=False, last_seen_at=None))
        session.commit()
    yield
    bus.set_bus(None)
    auth.set_limiter(None)
