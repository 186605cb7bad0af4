"""A resolved ticket with a conversation makes the bot ask CSAT; Rasa down or a paused chat never blocks it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.handoff.models import AuditLog, Handoff
from crm_backend.tests.campaign.stand_in_rasa import TOKEN, StandInRasa

BODY = {"customer_id": 3, "severity": "normal", "channel": "web", "kind": "complaint",
        "description": "The parcel arrived damaged, the box was crushed."}


def open_ticket(client: TestClient, headers: dict[str, str], conversation_id: str | None) -> str:
    response = client.post("/api/v1/tickets", json={**BODY, "conversation_id": conversation_id}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["ticket_no"])


def move(client: TestClient, headers: dict[str, str], ticket_no: str, *statuses: str) -> dict:
    body: dict = {}
    for status in statuses:
        response = client.patch(f"/api/v1/tickets/{ticket_no}/status", json={"status": status}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
    return body


def test_resolving_triggers_csat_in_the_conversation(client: TestClient, service_headers: dict[str, str],
                                                     rasa_server: StandInRasa) -> None:
    no = open_ticket(client, service_headers, "conv/csat 1")
    move(client, service_headers, no, "in_progress")
    assert rasa_server.calls == []  # only the step to `resolved` asks
    assert move(client, service_headers, no, "resolved")["status"] == "resolved"
    [call] = rasa_server.calls
    assert call.path == "/conversations/conv%2Fcsat%201/trigger_intent"
    assert call.query == {"output_channel": "latest", "token": TOKEN}
    assert call.body == {"name": "EXTERNAL_ticket_resolved", "entities": {"ticket_no": no}}
    assert rasa_server.triggers() == [("conv/csat 1", "EXTERNAL_ticket_resolved", {"ticket_no": no})]


def test_no_conversation_no_trigger(client: TestClient, service_headers: dict[str, str],
                                    rasa_server: StandInRasa) -> None:
    no = open_ticket(client, service_headers, None)
    assert move(client, service_headers, no, "in_progress", "resolved", "closed")["status"] == "closed"
    assert rasa_server.calls == []


def test_rasa_down_still_resolves_and_is_audited(client: TestClient, service_headers: dict[str, str],
                                                 rasa_server: StandInRasa, session: Session) -> None:
    rasa_server.down()
    no = open_ticket(client, service_headers, "conv-csat-down")
    assert move(client, service_headers, no, "in_progress", "resolved")["status"] == "resolved"
    fetched = client.get(f"/api/v1/tickets/{no}", headers=service_headers).json()
    assert fetched["status"] == "resolved"
    assert rasa_server.calls == []
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "survey_trigger_failed")).all()
    details = [json.loads(row.details) for row in rows]
    assert {"intent": "EXTERNAL_ticket_resolved", "conversation_id": "conv-csat-down",
            "entities": {"ticket_no": no}} in [{k: d[k] for k in ("intent", "conversation_id", "entities")}
                                              for d in details]


def test_rasa_error_status_still_resolves(client: TestClient, service_headers: dict[str, str],
                                          rasa_server: StandInRasa) -> None:
    rasa_server.status = 500
    no = open_ticket(client, service_headers, "conv-csat-500")
    assert move(client, service_headers, no, "in_progress", "resolved")["status"] == "resolved"
    assert [t[0] for t in rasa_server.triggers()] == ["conv-csat-500"]


def pause(session: Session, conversation_id: str, status: str = "assigned") -> None:
    """An escalation of the conversation to a human, as `POST /handoffs` leaves it."""
    session.add(Handoff(conversation_id=conversation_id, channel="rest", status=status, created_at=utcnow()))
    session.commit()


def test_paused_conversation_is_skipped(client: TestClient, service_headers: dict[str, str],
                                        rasa_server: StandInRasa, session: Session) -> None:
    pause(session, "conv-csat-paused")
    no = open_ticket(client, service_headers, "conv-csat-paused")
    assert move(client, service_headers, no, "in_progress", "resolved")["status"] == "resolved"
    assert rasa_server.triggers() == []


def test_a_finished_handoff_does_not_block_csat(client: TestClient, service_headers: dict[str, str],
                                                rasa_server: StandInRasa, session: Session) -> None:
    pause(session, "conv-csat-after-handoff", status="resolved")
    no = open_ticket(client, service_headers, "conv-csat-after-handoff")
    move(client, service_headers, no, "in_progress", "resolved")
    assert [t[0] for t in rasa_server.triggers()] == ["conv-csat-after-handoff"]
