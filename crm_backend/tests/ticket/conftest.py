"""Fixtures of the ticket tests: every test talks to a stand-in Rasa, never to a real one on RASA_URL."""

from __future__ import annotations

import pytest

from crm_backend.tests.campaign.stand_in_rasa import (
    StandInRasa,
    rasa_server,  # noqa: F401 — fixture
)


@pytest.fixture(autouse=True)
def stand_in_rasa(rasa_server: StandInRasa) -> StandInRasa:  # noqa: F811 — the imported fixture
    """Resolving a ticket with a conversation calls Rasa; keep that call inside the test."""
    return rasa_server
