"""Tickets over HTTP on SQLite and PostgreSQL: create, infer, redact, SLA, workflow, idempotency, bad input."""

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket

BODY = {"customer_id": 3, "severity": "high", "channel": "web", "kind": "complaint",
        "description": "My parcel is a week late, the tracking has not moved. Call me on +44 20 7946 0958",
        "order_no": "KF20250003", "conversation_id": "conv-t1"}


def test_create_infers_category_redacts_and_sets_sla(client: TestClient, service_headers: dict,
                                                     session: Session) -> None:
    r = client.post("/api/v1/tickets", json=BODY, headers=service_headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ticket_no"].startswith("T") and len(body["ticket_no"]) == 7 and body["ticket_no"][1:].isdigit()
    assert body["status"] == "open"
    assert body["category"] == "delivery" and body["category_source"] == "inferred"
    assert body["sla_hours"] == 8  # gold × high
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == body["ticket_no"])).one()
    assert "7946" not in ticket.description and "[PHONE]" in ticket.description
    assert (ticket.sla_due_at - ticket.created_at).total_seconds() == 8 * 3600
    assert ticket.sentiment is not None and ticket.sentiment < 0
    # the event rescored the customer
    assert session.get(CustomerScore, 3) is not None

    detail = client.get(f"/api/v1/tickets/{body['ticket_no']}", headers=service_headers).json()
    assert detail["order_no"] == "KF20250003" and detail["conversation_id"] == "conv-t1"
    assert [h["to_status"] for h in detail["history"]] == ["open"]


def test_order_number_is_normalised(client: TestClient, service_headers: dict) -> None:
    r = client.post("/api/v1/tickets", json={**BODY, "order_no": " kf20250003 ", "severity": "normal"},
                    headers=service_headers)
    assert r.status_code == 201, r.text
    assert r.json()["sla_hours"] == 24  # gold × medium ("normal")
    detail = client.get(f"/api/v1/tickets/{r.json()['ticket_no']}", headers=service_headers).json()
    assert detail["order_no"] == "KF20250003" and detail["severity"] == "medium"


def test_given_category_and_anonymous_ticket(client: TestClient, service_headers: dict) -> None:
    r = client.post("/api/v1/tickets", headers=service_headers, json={
        "category": "account", "severity": "low", "channel": "telegram", "description": "请回电", "kind": "callback"})
    assert r.status_code == 201, r.text
    assert r.json()["category"] == "account" and r.json()["category_source"] == "given"
    assert r.json()["sla_hours"] == 72  # unknown customer → regular × low


def test_workflow_records_actor_and_rejects_invalid_steps(client: TestClient, service_headers: dict) -> None:
    no = client.post("/api/v1/tickets", json=BODY, headers=service_headers).json()["ticket_no"]
    url = f"/api/v1/tickets/{no}/status"
    bad = client.patch(url, json={"status": "closed"}, headers={**service_headers, "Accept-Language": "zh-CN"})
    assert bad.status_code == 409
    assert bad.json()["error"]["code"] == "invalid_transition"
    assert "不能" in bad.json()["error"]["message"]
    for status in ("in_progress", "resolved", "closed", "open"):
        r = client.patch(url, json={"status": status, "actor": "agent:agent1", "note": status},
                         headers=service_headers)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    history = client.get(f"/api/v1/tickets/{no}", headers=service_headers).json()["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "open"), ("open", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed"),
        ("closed", "open")]
    assert all(h["actor"] == "agent:agent1" for h in history[1:])
    assert all(datetime.fromisoformat(h["at"]) for h in history)
    # unchanged after a rejected step
    assert client.patch(url, json={"status": "resolved"}, headers=service_headers).status_code == 409
    assert client.get(f"/api/v1/tickets/{no}", headers=service_headers).json()["status"] == "open"


def test_idempotency_replay_and_conflict(client: TestClient, service_headers: dict, session: Session) -> None:
    headers = {**service_headers, "Idempotency-Key": "ticket-key-1"}
    first = client.post("/api/v1/tickets", json=BODY, headers=headers)
    again = client.post("/api/v1/tickets", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    before = len(session.scalars(select(Ticket)).all())
    other = client.post("/api/v1/tickets", json={**BODY, "severity": "low"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert len(session.scalars(select(Ticket)).all()) == before


def test_bad_input(client: TestClient, service_headers: dict, session: Session) -> None:
    before = len(session.scalars(select(Ticket)).all())
    cases = [
        ({**BODY, "customer_id": 99999}, 404, "customer_not_found"),
        ({**BODY, "order_no": "KF29999999"}, 404, "order_not_found"),
        ({**BODY, "severity": "apocalyptic"}, 422, "validation_error"),
        ({**BODY, "description": ""}, 422, "validation_error"),
        ({**BODY, "kind": "praise"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = client.post("/api/v1/tickets", json=body, headers=service_headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    assert client.post("/api/v1/tickets", json=BODY).status_code == 401
    assert client.post("/api/v1/tickets", json=BODY, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/tickets/T999999", headers=service_headers).json()["error"]["code"] == \
        "ticket_not_found"
    assert len(session.scalars(select(Ticket)).all()) == before


def test_customer_ticket_list(client: TestClient, service_headers: dict) -> None:
    no = client.post("/api/v1/tickets", json=BODY, headers=service_headers).json()["ticket_no"]
    page = client.get("/api/v1/customers/3/tickets?limit=5", headers=service_headers).json()
    assert page["limit"] == 5 and page["total"] >= 1
    assert page["items"][0]["ticket_no"] == no
    assert {"ticket_no", "category", "severity", "status", "sla_due_at", "created_at", "summary"} <= set(
        page["items"][0])
    closed = client.get("/api/v1/customers/3/tickets?status=closed", headers=service_headers).json()
    assert all(t["status"] == "closed" for t in closed["items"])
    assert client.get("/api/v1/customers/99999/tickets", headers=service_headers).status_code == 404
