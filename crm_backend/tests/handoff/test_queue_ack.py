"""A waiting customer who writes again is told it reached the queue and where they stand, at most every two
minutes (SQLite and PostgreSQL; Rasa is the in-memory fake)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_backend.conversation import runner
from crm_backend.core.db import utcnow
from crm_backend.handoff import live
from crm_backend.handoff.models import Handoff
from testing.handoff import FakeRasa, handoff_body, login


def escalate(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> int:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["handoff_id"])


def wrote(session: Session, handoff_id: int, *, minutes_ago: float, opened_minutes_ago: float | None = None) -> None:
    values = {"customer_last_seen_at": utcnow() - timedelta(minutes=minutes_ago)}
    if opened_minutes_ago is not None:
        values["created_at"] = utcnow() - timedelta(minutes=opened_minutes_ago)
    session.execute(update(Handoff).where(Handoff.id == handoff_id).values(**values))
    session.commit()


def acknowledged(session: Session, rasa: FakeRasa, handoff_id: int) -> bool:
    return asyncio.run(live.acknowledge(session, handoff_id, rasa.client()))


def told(rasa: FakeRasa, conversation: str) -> list[str]:
    return [c[2]["text"] for c in rasa.sent("tracker/events") if c[1] == conversation and c[2].get("event") == "bot"]


def test_a_waiting_customer_who_writes_again_hears_their_place(client: TestClient, service_headers: dict[str, str],
                                                               session: Session, rasa: FakeRasa) -> None:
    first = escalate(client, service_headers, "c-ack-first", language="zh", customer_id=None)
    second = escalate(client, service_headers, "c-ack-second", language="en", customer_id=None)
    wrote(session, first, minutes_ago=0, opened_minutes_ago=5)
    wrote(session, second, minutes_ago=0, opened_minutes_ago=4)
    assert acknowledged(session, rasa, first) and acknowledged(session, rasa, second)
    assert told(rasa, "c-ack-first") == [live.QUEUE_ACK_TEXT["zh"][1].format(minutes=4)]  # next, 1 × 4 min
    assert told(rasa, "c-ack-second") == [live.QUEUE_ACK_TEXT["en"][0].format(ahead=1, minutes=8)]

    # More messages right after: nothing more (the agent sees them all when they pick up).
    wrote(session, second, minutes_ago=0)
    assert not acknowledged(session, rasa, second)
    # Two minutes later the customer writes again: told again.
    session.execute(update(Handoff).where(Handoff.id == second)
                    .values(queue_acknowledged_at=utcnow() - timedelta(minutes=3)))
    session.commit()
    wrote(session, second, minutes_ago=0)
    assert acknowledged(session, rasa, second) and len(told(rasa, "c-ack-second")) == 2


def test_no_acknowledgement_without_a_new_message_soon_after_the_handoff_or_once_claimed(
        client: TestClient, service_headers: dict[str, str], session: Session, rasa: FakeRasa) -> None:
    quiet = escalate(client, service_headers, "c-ack-quiet")
    wrote(session, quiet, minutes_ago=10, opened_minutes_ago=10)  # nothing since the handoff
    just_now = escalate(client, service_headers, "c-ack-just-escalated")
    wrote(session, just_now, minutes_ago=0, opened_minutes_ago=1)  # "ok thanks" right after being told the wait
    claimed = escalate(client, service_headers, "c-ack-claimed")
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{claimed}/claim").status_code == 200
    wrote(session, claimed, minutes_ago=0, opened_minutes_ago=5)
    assert not any(acknowledged(session, rasa, h) for h in (quiet, just_now, claimed))
    assert rasa.sent("tracker/events") == []


def test_rasa_down_loses_only_the_courtesy(client: TestClient, service_headers: dict[str, str], session: Session,
                                           rasa: FakeRasa) -> None:
    hid = escalate(client, service_headers, "c-ack-rasa-down")
    wrote(session, hid, minutes_ago=0, opened_minutes_ago=5)
    rasa.down = True
    assert not acknowledged(session, rasa, hid)
    handoff = session.get(Handoff, hid)
    assert handoff is not None and handoff.status == "waiting" and handoff.queue_acknowledged_at is not None


def test_the_stream_consumers_notifier_sends_it(client: TestClient, service_headers: dict[str, str],
                                                session: Session, rasa: FakeRasa,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring: the consumer thread's notifier schedules the acknowledgement on the event loop."""
    hid = escalate(client, service_headers, "c-ack-notifier", language="en", customer_id=None)
    wrote(session, hid, minutes_ago=0, opened_minutes_ago=3)
    monkeypatch.setattr(runner, "get_sessionmaker", lambda: lambda: session)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        runner.notifier(loop)({hid})  # as the consumer thread calls it after a commit
        deadline = time.monotonic() + 10
        while not told(rasa, "c-ack-notifier") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
    assert told(rasa, "c-ack-notifier") == [live.QUEUE_ACK_TEXT["en"][1].format(minutes=4)]
