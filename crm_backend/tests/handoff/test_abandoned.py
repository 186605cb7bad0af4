"""A waiting customer who went silent: the handoff is closed, the customer told, and the bot takes the
conversation back (SQLite and PostgreSQL; Rasa is the in-memory fake)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_backend.campaign.models import BotTrigger
from crm_backend.campaign.service import retry_due
from crm_backend.core.db import utcnow
from crm_backend.handoff import live
from crm_backend.handoff.models import AuditLog, Handoff
from testing.handoff import FakeRasa, handoff_body, login


def escalate(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> int:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["handoff_id"])


def silent_for(session: Session, handoff_id: int, minutes: float) -> None:
    then = utcnow() - timedelta(minutes=minutes)
    session.execute(update(Handoff).where(Handoff.id == handoff_id).values(created_at=then,
                                                                           customer_last_seen_at=then))
    session.commit()


def test_a_silent_waiting_customer_is_handed_back_to_the_bot(client: TestClient, service_headers: dict[str, str],
                                                             session: Session, rasa: FakeRasa) -> None:
    left = escalate(client, service_headers, "c-left-web", channel="socketio", language="zh")
    quiet_app = escalate(client, service_headers, "c-quiet-telegram", channel="telegram")
    here = escalate(client, service_headers, "c-still-here", channel="socketio")
    taken = escalate(client, service_headers, "c-taken", channel="rest")
    silent_for(session, left, 61)
    silent_for(session, quiet_app, 61)  # a chat app delivers late replies: it waits a day
    silent_for(session, here, 59)
    silent_for(session, taken, 120)
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{taken}/claim").status_code == 200  # an agent has it: never closed

    asyncio.run(live.retry_once(session, rasa.client()))

    status = {h.id: h.status for h in session.scalars(select(Handoff))}
    assert (status[left], status[quiet_app], status[here], status[taken]) == (
        "abandoned", "waiting", "waiting", "assigned")
    told = [(c[1], c[2]["text"]) for c in rasa.sent("tracker/events") if c[2].get("event") == "bot"]
    assert told == [("c-left-web", live.ABANDONED_TEXT["zh"])]
    assert [a.details for a in session.scalars(select(AuditLog).where(AuditLog.action == "abandon"))] == [
        '{"silent_minutes": 60.0, "channel": "socketio", "ticket_no": null}']
    # The console shows it closed, and nobody can claim it any more.
    queue = {h["id"] for h in client.get("/api/v1/handoffs").json()["items"]}
    assert left not in queue and here in queue
    shown = client.get(f"/api/v1/handoffs/{left}").json()["handoff"]
    assert shown["status"] == "abandoned"
    refused = client.post(f"/api/v1/handoffs/{left}/claim")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"

    # The bot takes the conversation back on the next round: resumed, and no survey for someone gone.
    (trigger,) = session.scalars(select(BotTrigger).where(BotTrigger.conversation_id == "c-left-web")).all()
    assert trigger.intent == "" and trigger.resume_first
    assert asyncio.run(retry_due(session, rasa=rasa.client())).sent == 1
    resumed = [c[2].get("event") or c[2].get("name") for c in rasa.sent("tracker/events") if c[1] == "c-left-web"]
    assert resumed[-2:] == ["resume", "action"] and rasa.sent("trigger_intent") == []


def test_rasa_down_keeps_the_return_to_the_bot_for_a_retry(client: TestClient, service_headers: dict[str, str],
                                                           session: Session, rasa: FakeRasa) -> None:
    left = escalate(client, service_headers, "c-left-rasa-down", channel="rest")
    silent_for(session, left, 90)
    rasa.down = True
    asyncio.run(live.retry_once(session, rasa.client()))  # the goodbye is lost; the closing is not
    assert session.get(Handoff, left).status == "abandoned"  # type: ignore[union-attr]
    result = asyncio.run(retry_due(session, rasa=rasa.client()))
    assert result.failed == 1 and result.sent == 0
    rasa.down = False
    later = utcnow() + timedelta(minutes=1)
    assert asyncio.run(retry_due(session, rasa=rasa.client(), now=later)).sent == 1
    assert [c[2].get("event") for c in rasa.sent("tracker/events")][-2:] == ["resume", "action"]


def test_supervisors_set_the_silence_and_zero_turns_it_off(client: TestClient, service_headers: dict[str, str],
                                                           session: Session, rasa: FakeRasa) -> None:
    login(client, "supervisor")
    saved = client.put("/api/v1/console/settings", json={"abandon_after_minutes": {"web": 0, "chat_app": 30}})
    assert saved.status_code == 200 and saved.json()["abandon_after_minutes"] == {"web": 0, "chat_app": 30}
    assert client.put("/api/v1/console/settings",
                      json={"abandon_after_minutes": {"web": -1, "chat_app": 30}}).status_code == 422
    web = escalate(client, service_headers, "c-web-never", channel="socketio")
    app = escalate(client, service_headers, "c-wechat-half-hour", channel="wechat", language="en")
    silent_for(session, web, 600)
    silent_for(session, app, 31)
    session.execute(update(Handoff).where(Handoff.id == app).values(ticket_no="T000123"))  # a callback ticket
    session.commit()
    asyncio.run(live.retry_once(session, rasa.client()))
    assert session.get(Handoff, web).status == "waiting"  # type: ignore[union-attr]
    assert session.get(Handoff, app).status == "abandoned"  # type: ignore[union-attr]
    told = [c[2]["text"] for c in rasa.sent("tracker/events") if c[2].get("event") == "bot"]
    assert told == [f"{live.ABANDONED_TEXT['en']} Your ticket T000123 will still be followed up."]
