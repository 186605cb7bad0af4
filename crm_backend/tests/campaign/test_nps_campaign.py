"""POST /campaigns/nps: triggers the NPS survey per conversation or per customer's latest conversation."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.handoff.models import Handoff
from crm_backend.interaction.models import Interaction
from crm_backend.tests.campaign.stand_in_rasa import TOKEN, StandInRasa

URL = "/api/v1/campaigns/nps"


def test_needs_the_service_token(client: TestClient, rasa_server: StandInRasa) -> None:
    response = client.post(URL, json={"conversation_ids": ["c-1"]})
    assert response.status_code == 401
    assert rasa_server.calls == []


def test_conversations_each_get_the_survey(client: TestClient, service_headers: dict[str, str],
                                           rasa_server: StandInRasa) -> None:
    response = client.post(URL, json={"conversation_ids": ["nps-a", "nps-b", "nps-a"]}, headers=service_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"triggered": 2, "failed": []}
    assert sorted(rasa_server.triggers()) == [("nps-a", "EXTERNAL_nps_survey", {}),
                                              ("nps-b", "EXTERNAL_nps_survey", {})]
    for call in rasa_server.calls:
        assert call.path.endswith("/trigger_intent")
        assert call.query == {"output_channel": "latest", "token": TOKEN}
        assert call.body == {"name": "EXTERNAL_nps_survey", "entities": {}}


def test_customers_map_to_their_latest_conversation(client: TestClient, service_headers: dict[str, str],
                                                    rasa_server: StandInRasa, session: Session) -> None:
    now = utcnow() + timedelta(days=3650)  # later than any demo interaction
    session.add_all([
        Interaction(conversation_id="nps-old-3", channel="web", customer_id=3, created_at=now - timedelta(days=2)),
        Interaction(conversation_id="nps-new-3", channel="web", customer_id=3, created_at=now),
        Interaction(conversation_id="nps-new-4", channel="web", customer_id=4, created_at=now),
    ])
    session.commit()
    response = client.post(URL, json={"customer_ids": [3, 4, 999999]}, headers=service_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"triggered": 2, "failed": [
        {"conversation_id": None, "customer_id": 999999, "reason": "no_conversation"}]}
    assert sorted(t[0] for t in rasa_server.triggers()) == ["nps-new-3", "nps-new-4"]


def test_paused_and_unreachable_conversations_are_reported(client: TestClient, service_headers: dict[str, str],
                                                           rasa_server: StandInRasa, session: Session) -> None:
    session.add(Handoff(conversation_id="nps-paused", channel="rest", status="waiting", created_at=utcnow()))
    session.commit()
    rasa_server.status = 502
    response = client.post(URL, json={"conversation_ids": ["nps-paused", "nps-x"]}, headers=service_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["triggered"] == 0
    assert sorted((f["conversation_id"], f["reason"]) for f in body["failed"]) == [
        ("nps-paused", "in_handoff"), ("nps-x", "rasa_unavailable")]
    assert [t[0] for t in rasa_server.triggers()] == ["nps-x"]


def test_rasa_down_is_reported_not_raised(client: TestClient, service_headers: dict[str, str],
                                          rasa_server: StandInRasa) -> None:
    rasa_server.down()
    response = client.post(URL, json={"conversation_ids": ["nps-down"]}, headers=service_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"triggered": 0, "failed": [
        {"conversation_id": "nps-down", "customer_id": None, "reason": "rasa_unavailable"}]}


def test_bad_bodies_are_422(client: TestClient, service_headers: dict[str, str], rasa_server: StandInRasa) -> None:
    bodies: list[dict[str, object]] = [{}, {"conversation_ids": []}, {"conversation_ids": ["a"], "customer_ids": [1]},
                                       {"customer_ids": ["x"]}, {"conversation_ids": [" "]}, {"segment": "gold"}]
    for body in bodies:
        response = client.post(URL, json=body, headers=service_headers)
        assert response.status_code == 422, (body, response.text)
    assert rasa_server.calls == []
