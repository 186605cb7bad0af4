"""Dashboard figures of agent work on SQLite and PostgreSQL: suggestions used per agent reply, handle time, and
CSAT of agent-handled conversations beside bot-only ones, against hand-counted values."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.conversation.consumer import store
from crm_backend.core.db import utcnow
from testing import conversation_events as ev
from testing.handoff import FakeRasa, handoff_body, login


def test_acceptance_handle_time_and_csat_by_who_handled(client: TestClient, service_headers: dict[str, str],
                                                         session: Session, rasa: FakeRasa) -> None:
    now = time.time() - 600
    batches = [ev.conversation("csat-bot-1", now, intents=["greet"], csat=5),
               ev.conversation("csat-bot-2", now + 10, intents=["greet"], csat=4),
               ev.conversation("csat-human", now + 20, intents=["request_human"], handoff=True, csat=2)]
    for batch in batches:
        assert store(session, [json.dumps(e) for e in batch]) is not None
    session.commit()
    created = client.post("/api/v1/handoffs", json=handoff_body("c-figures"), headers=service_headers)
    hid = created.json()["handoff_id"]
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    for text in ("Hello", "One moment please"):
        assert client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": text}).status_code == 201
    assert client.post(f"/api/v1/handoffs/{hid}/suggestions/uses",
                       json={"source": "canned", "key": "checking", "edited": False}).status_code == 204
    assert client.post(f"/api/v1/handoffs/{hid}/resolve").status_code == 200
    login(client, "supervisor")
    today = utcnow().date().isoformat()
    k = client.get(f"/api/v1/dashboard/kpis?start={today}&end={today}").json()
    assert (k["suggestion_uses"], k["agent_replies"], k["suggestion_acceptance_rate"]) == (1, 2, 50.0)
    assert k["handle_time_seconds"] is not None and 0 <= k["handle_time_seconds"] < 60
    assert (k["csat_bot"], k["csat_bot_responses"]) == (4.5, 2)
    assert (k["csat_human"], k["csat_human_responses"]) == (2.0, 1)
