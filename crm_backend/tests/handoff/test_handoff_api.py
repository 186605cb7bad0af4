"""Handoff API on SQLite and PostgreSQL: escalation, queue, claim, talk, transfer, resolve, permissions."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import utcnow
from crm_backend.handoff import assignment, conversation, service
from crm_backend.handoff.models import AuditLog, Handoff, HandoffMessage
from testing.handoff import FakeRasa, another_client, handoff_body, login


def create(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> dict:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_escalation_needs_the_service_token(client: TestClient) -> None:
    response = client.post("/api/v1/handoffs", json=handoff_body("c-noauth"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_no_agent_online_offers_a_callback_and_keeps_the_transcript_redacted(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    answer = create(client, service_headers, "c-nobody")
    assert answer["agents_online"] == 0
    assert answer["offer_callback"] is True
    assert answer["status"] == "waiting"
    texts = [m.text for m in session.scalars(select(HandoffMessage).where(
        HandoffMessage.handoff_id == answer["handoff_id"], HandoffMessage.role.in_(["user", "bot"]))
        .order_by(HandoffMessage.id))]
    assert texts[0] == "where is my order KF20250003"
    assert "13800000003" not in " ".join(texts) and "[PHONE]" in texts[2]


def test_repeated_escalation_of_one_conversation_returns_the_open_handoff(
        client: TestClient, service_headers: dict[str, str]) -> None:
    first = create(client, service_headers, "c-twice")
    second = create(client, service_headers, "c-twice")
    assert first["handoff_id"] == second["handoff_id"]


def test_an_online_agent_lowers_the_wait_and_no_callback_is_offered(
        client: TestClient, service_headers: dict[str, str]) -> None:
    login(client, "agent1")
    answer = create(client, service_headers, "c-online")
    assert answer["agents_online"] == 1
    assert answer["offer_callback"] is False
    assert 1 <= answer["expected_wait_minutes"] <= 10


def test_queue_puts_value_customers_first_then_priority_then_waiting_time(
        client: TestClient, service_headers: dict[str, str]) -> None:
    login(client, "agent1")
    low_old = create(client, service_headers, "c-q1", customer_id=None, priority="low")["handoff_id"]
    high = create(client, service_headers, "c-q2", customer_id=4, priority="high")["handoff_id"]
    normal = create(client, service_headers, "c-q3", customer_id=None, priority="normal")["handoff_id"]
    vip = create(client, service_headers, "c-q4", customer_id=1, priority="normal")["handoff_id"]  # diamond
    items = client.get("/api/v1/handoffs").json()["items"]
    order = [i["id"] for i in items if i["id"] in (low_old, high, normal, vip)]
    assert order == [vip, high, normal, low_old]
    assert items[0]["value_customer"] is True and items[0]["customer_name"]


def test_claim_once_second_agent_gets_409(app: FastAPI, client: TestClient, service_headers: dict[str, str],
                                          rasa: FakeRasa) -> None:
    hid = create(client, service_headers, "c-claim")["handoff_id"]
    login(client, "agent1")
    with another_client(app) as other:
        login(other, "agent2")
        assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
        lost = other.post(f"/api/v1/handoffs/{hid}/claim")
        assert lost.status_code == 409
        assert lost.json()["error"]["code"] == "conflict"
        # agent2 no longer sees agent1's conversation, and may not open or answer it
        assert hid not in [i["id"] for i in other.get("/api/v1/handoffs").json()["items"]]
        assert other.get(f"/api/v1/handoffs/{hid}").status_code == 403
        assert other.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "hi"}).status_code == 403
        with another_client(app) as boss:
            login(boss, "supervisor")
            assert hid in [i["id"] for i in boss.get("/api/v1/handoffs").json()["items"]]
            assert boss.get(f"/api/v1/handoffs/{hid}").status_code == 200


def test_console_requires_login_and_csrf(client: TestClient, service_headers: dict[str, str]) -> None:
    hid = create(client, service_headers, "c-csrf")["handoff_id"]
    assert client.get("/api/v1/handoffs").status_code == 401
    assert client.get("/api/v1/handoffs", headers=service_headers).status_code == 401  # service token ≠ agent
    token = login(client, "agent1")
    del client.headers["X-CSRF-Token"]
    refused = client.post(f"/api/v1/handoffs/{hid}/claim")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    assert client.post(f"/api/v1/handoffs/{hid}/claim", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post(f"/api/v1/handoffs/{hid}/claim", headers={"X-CSRF-Token": token}).status_code == 200


def test_login_is_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": "agent1", "password": "nope"}).status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    # another account from the same client is not locked out by agent1's failures
    assert client.post("/api/v1/auth/login", json={"username": "agent2", "password": "agent2-pass"}).status_code == 200


def test_reply_reaches_rasa_with_side_effects(client: TestClient, service_headers: dict[str, str],
                                             rasa: FakeRasa, session: Session) -> None:
    hid = create(client, service_headers, "c-reply")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    sent = client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "您好，我来帮您"})
    assert sent.status_code == 201 and sent.json()["delivery"] == "delivered"
    pushed = rasa.sent("tracker/events")
    assert pushed[-1][1] == "c-reply" and pushed[-1][2]["event"] == "bot" and pushed[-1][2]["text"] == "您好，我来帮您"
    assert session.get(Handoff, hid).first_response_at is not None  # type: ignore[union-attr]


def test_rasa_down_keeps_the_reply_queued_with_a_retry(client: TestClient, service_headers: dict[str, str],
                                                       rasa: FakeRasa) -> None:
    hid = create(client, service_headers, "c-down")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    rasa.down = True
    message = client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "still there?"}).json()
    assert message["delivery"] == "pending"
    shown = [m for m in client.get(f"/api/v1/handoffs/{hid}").json()["messages"] if m["id"] == message["id"]]
    assert shown[0]["delivery"] == "pending" and shown[0]["text"] == "still there?"
    rasa.down = False
    retried = client.post(f"/api/v1/handoffs/{hid}/messages/{message['id']}/retry").json()
    assert retried["delivery"] == "delivered" and retried["attempts"] == 2


def test_customer_messages_from_the_stream_appear_once(client: TestClient, service_headers: dict[str, str],
                                                       session: Session) -> None:
    from crm_backend.conversation.consumer import store

    hid = create(client, service_headers, "c-live")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    event = json.dumps({"sender_id": "c-live", "event": "user", "text": "my parcel is late",
                        "timestamp": time.time() + 1})
    for _ in range(2):  # the broker delivers it twice: still one turn
        store(session, [event])
        texts = [m["text"] for m in client.get(f"/api/v1/handoffs/{hid}").json()["messages"] if m["role"] == "user"]
    assert texts.count("my parcel is late") == 1


def test_notes_stay_internal(client: TestClient, service_headers: dict[str, str], rasa: FakeRasa) -> None:
    hid = create(client, service_headers, "c-note")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    assert client.post(f"/api/v1/handoffs/{hid}/notes", json={"text": "VIP, be gentle"}).status_code == 201
    assert not rasa.sent("tracker/events")
    roles = [m["role"] for m in client.get(f"/api/v1/handoffs/{hid}").json()["messages"]]
    assert "note" in roles


def test_transfer_to_agent_then_to_supervisor(app: FastAPI, client: TestClient, service_headers: dict[str, str],
                                              session: Session) -> None:
    hid = create(client, service_headers, "c-transfer")["handoff_id"]
    agent2 = session.scalars(select(Agent).where(Agent.username == "agent2")).one()
    boss = session.scalars(select(Agent).where(Agent.username == "supervisor")).one()
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    moved = client.post(f"/api/v1/handoffs/{hid}/transfer", json={"agent_id": agent2.id})
    assert moved.status_code == 200 and moved.json()["assigned_agent_id"] == agent2.id
    assert client.post(f"/api/v1/handoffs/{hid}/transfer", json={"to_supervisor": True}).status_code == 403
    with another_client(app) as other:
        login(other, "agent2")
        up = other.post(f"/api/v1/handoffs/{hid}/transfer", json={"to_supervisor": True})
        assert up.status_code == 200 and up.json()["assigned_agent_id"] == boss.id
    actions = list(session.scalars(select(AuditLog.action).where(AuditLog.handoff_id == hid)))
    assert actions.count("transfer") == 2 and "claim" in actions


def test_double_resolve_resolves_once_and_asks_csat_once(client: TestClient, service_headers: dict[str, str],
                                                         rasa: FakeRasa, session: Session) -> None:
    hid = create(client, service_headers, "c-resolve")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    first = client.post(f"/api/v1/handoffs/{hid}/resolve").json()
    second = client.post(f"/api/v1/handoffs/{hid}/resolve").json()
    assert first["resolved"] is True and first["csat_requested"] is True
    assert second["resolved"] is False and second["handoff"]["status"] == "resolved"
    assert [(c[2]["event"], c[2].get("name")) for c in rasa.sent("tracker/events")] == [
        ("resume", None), ("action", "action_listen")]
    assert [c[2]["name"] for c in rasa.sent("trigger_intent")] == ["EXTERNAL_handoff_resolved"]
    agent1 = session.scalars(select(Agent).where(Agent.username == "agent1")).one()
    assert service.agent_for_conversation(session, conversation_id="c-resolve") == agent1.id
    assert client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "late"}).status_code == 409


def test_stale_agent_loses_the_conversation_to_the_queue(client: TestClient, service_headers: dict[str, str],
                                                         session: Session) -> None:
    hid = create(client, service_headers, "c-stale")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    assert assignment.release_stale(session) == []  # heartbeat is fresh: stays assigned
    agent1 = session.scalars(select(Agent).where(Agent.username == "agent1")).one()
    agent1.last_seen_at = utcnow() - timedelta(minutes=10)  # the browser was closed
    session.flush()
    released = assignment.release_stale(session)
    assert [h.id for h in released] == [hid]
    handoff = session.get(Handoff, hid)
    assert handoff is not None and handoff.status == "waiting" and handoff.assigned_agent_id is None
    assert len(service.messages(session, handoff_id=hid)) >= 3  # nothing lost


def test_auto_assignment_picks_the_least_loaded_online_agent(app: FastAPI, client: TestClient,
                                                             service_headers: dict[str, str],
                                                             session: Session) -> None:
    with another_client(app) as boss, another_client(app) as other:
        login(boss, "supervisor")
        boss.post("/api/v1/console/heartbeat", json={"status": "away"})
        login(client, "agent1")
        login(other, "agent2")
        first = create(client, service_headers, "c-auto1")["handoff_id"]
        client.post(f"/api/v1/handoffs/{first}/claim")
        assert boss.put("/api/v1/console/settings", json={"auto_assign": True, "capacity": 2}).status_code == 200
        assert client.put("/api/v1/console/settings", json={"auto_assign": False}).status_code == 403
        second = create(client, service_headers, "c-auto2")["handoff_id"]
        third = create(client, service_headers, "c-auto3")["handoff_id"]
        agent1 = session.scalars(select(Agent).where(Agent.username == "agent1")).one()
        agent2 = session.scalars(select(Agent).where(Agent.username == "agent2")).one()
        owners = {h: session.get(Handoff, h).assigned_agent_id for h in (second, third)}  # type: ignore[union-attr]
        assert owners[second] == agent2.id  # agent1 already had one
        assert owners[third] in (agent1.id, agent2.id)
        fourth = create(client, service_headers, "c-auto4")["handoff_id"]
        fifth = create(client, service_headers, "c-auto5")["handoff_id"]
        session.expire_all()
        statuses = {h: getattr(session.get(Handoff, h), "status", None) for h in (fourth, fifth)}
        assert statuses == {fourth: "assigned", fifth: "waiting"}  # then both agents are at capacity 2


def test_csat_after_resolution_is_credited_to_the_agent(client: TestClient, service_headers: dict[str, str],
                                                        rasa: FakeRasa, session: Session) -> None:
    hid = create(client, service_headers, "c-credit")["handoff_id"]
    login(client, "agent2")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    assert client.post(f"/api/v1/handoffs/{hid}/resolve").json()["resolved"] is True
    feedback = client.post("/api/v1/feedback", headers={**service_headers, "Idempotency-Key": "csat-credit-1"},
                           json={"customer_id": 3, "kind": "csat", "score": 5, "conversation_id": "c-credit",
                                 "channel": "rest"})
    assert feedback.status_code in (200, 201), feedback.text
    from crm_backend.feedback.models import Feedback

    row = session.get(Feedback, feedback.json()["feedback_id"])
    agent2 = session.scalars(select(Agent).where(Agent.username == "agent2")).one()
    assert row is not None and row.agent_id == agent2.id


def test_ticket_is_created_or_linked_from_the_console(client: TestClient, service_headers: dict[str, str],
                                                      rasa: FakeRasa) -> None:
    hid = create(client, service_headers, "c-ticket")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    created = client.post(f"/api/v1/handoffs/{hid}/ticket", json={"create": True, "severity": "high"})
    assert created.status_code == 200, created.text
    ticket_no = created.json()["ticket_no"]
    assert ticket_no and ticket_no.startswith("T")
    ticket = client.get(f"/api/v1/tickets/{ticket_no}", headers=service_headers)
    assert ticket.status_code == 200 and "[PHONE]" in ticket.json()["description"]
    assert ticket.json()["conversation_id"] == "c-ticket"
    other = create(client, service_headers, "c-ticket-2")["handoff_id"]
    client.post(f"/api/v1/handoffs/{other}/claim")
    linked = client.post(f"/api/v1/handoffs/{other}/ticket", json={"ticket_no": ticket_no})
    assert linked.status_code == 200 and linked.json()["ticket_no"] == ticket_no
    assert client.post(f"/api/v1/handoffs/{other}/ticket", json={"ticket_no": "T999999"}).status_code == 404


def test_a_reply_that_never_reaches_the_customer_is_recorded_on_the_ticket(
        client: TestClient, service_headers: dict[str, str], rasa: FakeRasa, session: Session) -> None:
    hid = create(client, service_headers, "c-gone")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    ticket_no = client.post(f"/api/v1/handoffs/{hid}/ticket", json={"create": True}).json()["ticket_no"]
    rasa.down = True
    message_id = client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "we will refund you"}).json()["id"]
    message = session.get(HandoffMessage, message_id)
    assert message is not None and message.delivery == "pending"
    message.attempts = 19  # the poller kept retrying; the customer is gone
    session.flush()
    retried = client.post(f"/api/v1/handoffs/{hid}/messages/{message_id}/retry").json()
    assert retried["delivery"] == "recorded"
    history = client.get(f"/api/v1/tickets/{ticket_no}", headers=service_headers).json()["history"]
    assert any("we will refund you" in (change.get("note") or "") for change in history)


def test_a_delivery_attempt_is_taken_once(client: TestClient, service_headers: dict[str, str], rasa: FakeRasa,
                                          session: Session) -> None:
    hid = create(client, service_headers, "c-once")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    rasa.down = True
    message_id = client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "only once"}).json()["id"]
    message = session.get(HandoffMessage, message_id)
    assert message is not None and message.attempts == 1 and message.delivery == "pending"
    with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as process_b:
        stale = process_b.get(HandoffMessage, message_id)  # B read the row before A's claim
        assert stale is not None and stale.attempts == 1
        assert conversation.claim_attempt(session, message=message) is True  # A's poller takes attempt 2
        assert conversation.claim_attempt(process_b, message=stale) is False  # B must not send it again
        assert stale.attempts == 2


def test_a_reply_in_flight_is_not_sent_again(client: TestClient, service_headers: dict[str, str], rasa: FakeRasa,
                                             session: Session) -> None:
    """The Retry button pressed while the retry timer's attempt is still waiting for Rasa (CI saw it twice)."""
    hid = create(client, service_headers, "c-flight")["handoff_id"]
    login(client, "agent1")
    client.post(f"/api/v1/handoffs/{hid}/claim")
    rasa.down = True
    message_id = client.post(f"/api/v1/handoffs/{hid}/messages", json={"text": "in flight"}).json()["id"]
    message = session.get(HandoffMessage, message_id)
    assert message is not None and message.delivery == "pending"
    assert conversation.claim_attempt(session, message=message) is True  # the timer's attempt, Rasa not answered yet
    assert message.delivery == "sending"
    assert conversation.pending_messages(session) == []
    rasa.down = False
    retried = client.post(f"/api/v1/handoffs/{hid}/messages/{message_id}/retry")
    assert retried.status_code == 200 and retried.json()["delivery"] == "sending"
    def sends() -> int:
        return sum(1 for _, _, event in rasa.sent("tracker/events") if event.get("text") == "in flight")

    assert sends() == 0  # the button did not send it a second time
    message.sending_since = utcnow() - conversation.SENDING_LEASE - timedelta(seconds=1)  # that sender died
    session.flush()
    assert [m.id for m in conversation.pending_messages(session)] == [message_id]
    assert client.post(f"/api/v1/handoffs/{hid}/messages/{message_id}/retry").json()["delivery"] == "delivered"
    assert sends() == 1
