"""Interactions: upsert by conversation id."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.interaction.models import Interaction


def test_upsert_by_conversation(client: TestClient, service_headers: dict, session: Session) -> None:
    body = {"conversation_id": "conv-i1", "channel": "web", "intents": ["ask_order_status"], "sentiment": -0.2,
            "escalated": True, "resolved_by_bot": False}
    first = client.post("/api/v1/interactions", headers=service_headers, json=body)
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    second = client.post("/api/v1/interactions", headers=service_headers, json={
        **body, "customer_id": 5, "intents": ["ask_order_status", "complain"], "escalated": False, "sentiment": 0.4})
    assert second.json() == {"interaction_id": first.json()["interaction_id"], "created": False}
    rows = session.scalars(select(Interaction).where(Interaction.conversation_id == "conv-i1")).all()
    assert len(rows) == 1
    row = rows[0]
    session.refresh(row)
    assert row.customer_id == 5 and row.intents == ["ask_order_status", "complain"]
    assert row.escalated is True  # never goes back to false
    assert row.sentiment == 0.4
    labelled = client.post("/api/v1/interactions", headers=service_headers,
                           json={"conversation_id": "conv-i2", "channel": "web", "sentiment": "negative"})
    assert labelled.status_code == 200, labelled.text
    row2 = session.get(Interaction, labelled.json()["interaction_id"])
    assert row2 is not None and row2.sentiment is not None and row2.sentiment < 0


def test_bad_input(client: TestClient, service_headers: dict, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Interaction))
    for body, status in [({"channel": "web"}, 422),
                         ({"conversation_id": "c", "channel": "web", "sentiment": 3}, 422),
                         ({"conversation_id": "c", "channel": "web", "customer_id": 99999}, 404)]:
        assert client.post("/api/v1/interactions", headers=service_headers, json=body).status_code == status
    assert client.post("/api/v1/interactions", json={"conversation_id": "c", "channel": "web"}).status_code == 401
    assert session.scalar(select(func.count()).select_from(Interaction)) == before
