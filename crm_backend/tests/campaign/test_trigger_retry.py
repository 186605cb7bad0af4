"""Bot triggers Rasa did not take are kept and retried (campaign/service.py `keep_for_retry`, `retry_due`)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.campaign.models import BotTrigger, TriggerStatus
from crm_backend.campaign.service import RetryRound, keep_for_retry, retry_due
from crm_backend.core.db import utcnow
from crm_backend.handoff.models import AuditLog, Handoff
from crm_backend.tests.campaign.stand_in_rasa import StandInRasa


def kept(session: Session, conversation_id: str) -> BotTrigger:
    trigger = session.scalars(select(BotTrigger).where(BotTrigger.conversation_id == conversation_id)).one()
    session.refresh(trigger)
    return trigger


def retry(session: Session, rasa_server: StandInRasa, at: datetime) -> RetryRound:
    return asyncio.run(retry_due(session, rasa=rasa_server.client(), now=at))


def test_campaign_trigger_is_kept_and_sent_once_rasa_is_back(client: TestClient, service_headers: dict[str, str],
                                                             rasa_server: StandInRasa, session: Session) -> None:
    rasa_server.down()
    started = utcnow()
    response = client.post("/api/v1/campaigns/nps", json={"conversation_ids": ["retry-nps-1"]},
                           headers=service_headers)
    assert response.json()["failed"][0]["reason"] == "rasa_unavailable"
    trigger = kept(session, "retry-nps-1")
    assert (trigger.status, trigger.intent, trigger.attempts) == (TriggerStatus.PENDING, "EXTERNAL_nps_survey", 1)
    assert timedelta(seconds=29) <= trigger.next_attempt_at - started <= timedelta(seconds=31)

    assert retry(session, rasa_server, started + timedelta(seconds=10)) == RetryRound()  # not due yet
    first_try = trigger.next_attempt_at
    assert retry(session, rasa_server, first_try) == RetryRound(failed=1)  # still down: wait twice as long
    trigger = kept(session, "retry-nps-1")
    assert trigger.attempts == 2 and trigger.next_attempt_at == first_try + timedelta(seconds=60)
    assert trigger.last_error

    rasa_server.dead_url = None  # Rasa is back
    assert retry(session, rasa_server, trigger.next_attempt_at) == RetryRound(sent=1)
    assert rasa_server.triggers() == [("retry-nps-1", "EXTERNAL_nps_survey", {})]
    assert kept(session, "retry-nps-1").status == TriggerStatus.SENT
    assert retry(session, rasa_server, trigger.next_attempt_at + timedelta(hours=2)) == RetryRound()  # sent once


def test_handoff_return_resumes_the_conversation_before_the_csat_trigger(rasa_server: StandInRasa,
                                                                        session: Session) -> None:
    keep_for_retry(session, conversation_id="retry-handoff-1", intent="EXTERNAL_handoff_resolved", resume_first=True,
                   error="connection refused")
    session.commit()
    assert retry(session, rasa_server, utcnow() + timedelta(minutes=1)) == RetryRound(sent=1)
    paths = [call.path for call in rasa_server.calls]
    assert paths == ["/conversations/retry-handoff-1/tracker/events"] * 2 + [
        "/conversations/retry-handoff-1/trigger_intent"]
    assert rasa_server.calls[0].body["event"] == "resume"


def test_conversation_back_with_a_human_is_not_surveyed(rasa_server: StandInRasa, session: Session) -> None:
    keep_for_retry(session, conversation_id="retry-paused-1", intent="EXTERNAL_ticket_resolved",
                   entities={"ticket_no": "T100001"})
    session.add(Handoff(conversation_id="retry-paused-1", channel="rest", status="assigned", created_at=utcnow()))
    session.commit()
    assert retry(session, rasa_server, utcnow() + timedelta(minutes=1)) == RetryRound(abandoned=1)
    assert rasa_server.calls == []
    assert kept(session, "retry-paused-1").status == TriggerStatus.ABANDONED
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "bot_trigger_abandoned")).all()
    assert any("retry-paused-1" in row.details for row in audit)


def test_gives_up_after_a_day_of_failures(rasa_server: StandInRasa, session: Session) -> None:
    rasa_server.down()
    keep_for_retry(session, conversation_id="retry-old-1", intent="EXTERNAL_nps_survey")
    session.commit()
    assert retry(session, rasa_server, utcnow() + timedelta(hours=24, minutes=1)) == RetryRound(abandoned=1)
    assert kept(session, "retry-old-1").status == TriggerStatus.ABANDONED
