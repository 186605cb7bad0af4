"""Response timers on SQLite and PostgreSQL: first then next response, targets set by a supervisor (value
customers get less time), a breach recorded once and listed for supervisors, and counted on the dashboard."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.handoff import timers
from crm_backend.handoff.models import Handoff, HandoffMessage, ResponseBreach
from crm_backend.handoff.settings import console_settings
from testing.handoff import FakeRasa, handoff_body, login

TARGETS = {"first": {"urgent": 20, "high": 40, "normal": 60, "low": 600},
           "next": {"urgent": 30, "high": 60, "normal": 90, "low": 600}, "value_customer_factor": 0.5}


def escalate(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> int:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["handoff_id"])


def timer_of(client: TestClient, hid: int) -> dict[str, object] | None:
    handoff = client.get(f"/api/v1/handoffs/{hid}").json()["handoff"]
    timer: dict[str, object] | None = handoff["timer"]
    return timer


def test_first_then_next_response_timer_with_the_supervisors_targets(
        client: TestClient, service_headers: dict[str, str], session: Session, rasa: FakeRasa) -> None:
    login(client, "supervisor")
    saved = client.put("/api/v1/console/settings", json={"response_targets": TARGETS})
    assert saved.status_code == 200 and saved.json()["response_targets"]["first"]["high"] == 40
    bad = client.put("/api/v1/console/settings", json={"response_targets": {**TARGETS, "value_customer_factor": 3}})
    assert bad.status_code == 422
    plain = escalate(client, service_headers, "c-timer-plain", customer_id=None, priority="high")
    vip = escalate(client, service_headers, "c-timer-vip", customer_id=1, priority="high")  # a value customer
    first = timer_of(client, plain)
    assert first is not None and first["kind"] == "first" and first["target_seconds"] == 40
    vip_timer = timer_of(client, vip)
    assert vip_timer is not None and vip_timer["target_seconds"] == 20  # half the time
    queue = {h["id"]: h for h in client.get("/api/v1/handoffs").json()["items"]}
    assert queue[plain]["timer"]["kind"] == "first"

    assert client.post(f"/api/v1/handoffs/{plain}/claim").status_code == 200
    assert client.post(f"/api/v1/handoffs/{plain}/messages", json={"text": "Hello, how can I help?"}).status_code == 201
    assert timer_of(client, plain) is None  # the agent answered: the customer's turn
    session.add(HandoffMessage(handoff_id=plain, role="user", text="my parcel is late", created_at=utcnow()))
    session.commit()
    following = timer_of(client, plain)
    assert following is not None and following["kind"] == "next" and following["target_seconds"] == 60
    assert client.post(f"/api/v1/handoffs/{plain}/resolve").status_code == 200
    assert timer_of(client, plain) is None


def test_a_breach_is_recorded_once_listed_for_supervisors_and_counted(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    hid = escalate(client, service_headers, "c-timer-breach", customer_id=None, priority="urgent")
    session.execute(update(Handoff).where(Handoff.id == hid).values(created_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    targets = console_settings(session)["response_targets"]
    found = timers.record_breaches(session, targets)
    session.commit()
    assert [(b.handoff_id, b.kind) for b in found] == [(hid, "first")]
    assert timers.record_breaches(session, targets) == []  # the same timer is never recorded twice
    session.commit()
    assert len(session.scalars(select(ResponseBreach)).all()) == 1
    login(client, "agent1")
    assert client.get("/api/v1/console/breaches").status_code == 403
    login(client, "supervisor")
    listed = client.get("/api/v1/console/breaches").json()["items"]
    assert [(b["handoff_id"], b["kind"], b["priority"]) for b in listed] == [(hid, "first", "urgent")]
    today = utcnow().date().isoformat()
    kpis = client.get(f"/api/v1/dashboard/kpis?start={today}&end={today}").json()
    assert kpis["first_response_breaches"] == 1 and kpis["next_response_breaches"] == 0


def test_timer_rules_without_a_database() -> None:
    now = utcnow()
    waiting = Handoff(id=1, status="waiting", priority="low", value_customer=False, created_at=now,
                      first_response_at=None)
    answered = Handoff(id=2, status="assigned", priority="normal", value_customer=True, created_at=now,
                       first_response_at=now)
    targets = timers.merged_targets({"first": {"low": 100}})
    assert targets["next"]["urgent"] == timers.DEFAULT_TARGETS["next"]["urgent"]  # partial settings keep the rest
    got = timers.timers([waiting, answered], targets, {2: (now + timedelta(seconds=5), now)})
    assert got[1].kind == "first" and got[1].due_at == now + timedelta(seconds=100)
    assert got[2].kind == "next" and got[2].target_seconds == 150  # 300 s × 0.5 for a value customer
    assert timers.timers([answered], targets, {2: (now, now + timedelta(seconds=1))}) == {}


def test_a_long_queue_of_breached_conversations_costs_a_few_queries_per_round(session: Session) -> None:
    """The soak's finding: 2,352 waiting conversations (no agent online) cost a query each on every round."""
    long_ago = utcnow() - timedelta(hours=1)
    session.add_all([Handoff(conversation_id=f"c-queue-{n}", channel="socketio", language="zh", priority="normal",
                             priority_rank=2, created_at=long_ago, customer_last_seen_at=long_ago)
                     for n in range(1200)])
    session.flush()
    targets = console_settings(session)["response_targets"]
    assert len(timers.record_breaches(session, targets)) == 1200
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert timers.record_breaches(session, targets) == []  # all recorded already
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 2 + 1200 // timers.LOOKUP_CHUNK + 1, statements[:5]
