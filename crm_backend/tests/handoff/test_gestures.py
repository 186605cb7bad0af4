"""Goodwill gestures on SQLite and PostgreSQL: within the limits (role and tier), over them, a double-click,
who may grant, the ledger, the audit log and the ticket note."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.handoff.models import AuditLog
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption
from crm_backend.ticket.models import Ticket, TicketStatusChange
from testing.handoff import another_client, handoff_body, login


def escalate(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> int:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["handoff_id"])


def grant(client: TestClient, hid: int, points: int, key: str, reason: str = "parcel arrived late",
          lang: str = "en") -> tuple[int, dict[str, Any]]:
    response = client.post(f"/api/v1/handoffs/{hid}/gestures", json={"points": points, "reason": reason},
                           headers={"Idempotency-Key": key, "Accept-Language": lang})
    return response.status_code, response.json()


def balance(session: Session, customer_id: int) -> int:
    session.expire_all()
    account = session.scalars(select(PointsAccount).where(PointsAccount.customer_id == customer_id)).one()
    return account.balance


def test_a_gesture_within_the_limit_is_granted_once_audited_and_noted_on_a_ticket(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    hid = escalate(client, service_headers, "c-gesture-ok", customer_id=1)  # 王伟, diamond
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    limit = client.get(f"/api/v1/handoffs/{hid}/gestures").json()
    assert {k: limit[k] for k in ("limit", "tier", "role")} == {"limit": 500, "tier": "diamond", "role": "agent"}
    assert [c["code"] for c in limit["coupons"]] == ["COUPON10"]  # the role's limit is the lower one (500)
    before = balance(session, 1)
    status, body = grant(client, hid, 300, "dlg-1")
    assert status == 201, body
    again_status, again = grant(client, hid, 300, "dlg-1")  # the double-click
    assert again_status == 201 and again == body
    assert balance(session, 1) == before + 300
    ticket_no = body["ticket_no"]
    assert isinstance(ticket_no, str)
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == ticket_no)).one()
    changes = session.scalars(select(TicketStatusChange).where(TicketStatusChange.ticket_id == ticket.id))
    notes = [c.note for c in changes]
    assert sum("[goodwill +300 points] parcel arrived late" in (n or "") for n in notes) == 1
    audited = session.scalars(select(AuditLog).where(AuditLog.action == "gesture")).all()
    assert len(audited) == 1 and json.loads(audited[0].details)["points"] == 300
    conflict_status, _ = grant(client, hid, 100, "dlg-1")  # the same key with another amount
    assert conflict_status == 409


def test_over_the_limit_is_refused_in_the_agents_language_and_grants_nothing(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    hid = escalate(client, service_headers, "c-gesture-over", customer_id=3)
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    tier = client.get(f"/api/v1/handoffs/{hid}/gestures").json()
    before = balance(session, 3)
    status, body = grant(client, hid, tier["limit"] + 1, "dlg-2", lang="zh")
    assert status == 422 and body["error"]["code"] == "over_limit" and "超出" in body["error"]["message"]
    status, body = grant(client, hid, tier["limit"] + 1, "dlg-3")
    assert status == 422 and "over your limit" in body["error"]["message"]
    assert balance(session, 3) == before
    login(client, "supervisor")  # a supervisor raises the tier limits: value customers get more room
    limits = {"role": {"agent": 500, "supervisor": 5000, "admin": 5000},
              "tier": {"regular": 50, "silver": 50, "gold": 50, "diamond": 3000}}
    assert client.put("/api/v1/console/settings", json={"gesture_limits": limits}).status_code == 200
    assert client.get(f"/api/v1/handoffs/{hid}/gestures").json()["limit"] == min(5000, limits["tier"][tier["tier"]])


def test_only_the_holder_or_a_supervisor_grants_and_only_to_a_known_customer(
        app: FastAPI, client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-gesture-who", customer_id=1)
    anonymous = escalate(client, service_headers, "c-gesture-anon", customer_id=None)
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    assert client.post(f"/api/v1/handoffs/{anonymous}/claim").status_code == 200
    status, body = grant(client, anonymous, 10, "dlg-4")
    assert status == 422 and "no verified customer" in body["error"]["message"]
    with another_client(app) as other:
        login(other, "agent2")
        response = other.post(f"/api/v1/handoffs/{hid}/gestures", json={"points": 10, "reason": "sorry"},
                              headers={"Idempotency-Key": "dlg-5"})
        assert response.status_code == 403
    assert client.post(f"/api/v1/handoffs/{hid}/gestures", json={"points": 10, "reason": "sorry"}).status_code == 422
    status, _ = grant(client, hid, 0, "dlg-6")
    assert status == 422


def give_coupon(client: TestClient, hid: int, code: str, key: str, lang: str = "en") -> tuple[int, dict[str, Any]]:
    response = client.post(f"/api/v1/handoffs/{hid}/gestures", json={"reward_code": code, "reason": "parcel lost"},
                           headers={"Idempotency-Key": key, "Accept-Language": lang})
    return response.status_code, response.json()


def test_a_coupon_within_the_limit_is_given_once_through_the_ledger_and_noted(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    hid = escalate(client, service_headers, "c-coupon-ok", customer_id=1)
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    before = balance(session, 1)
    redemptions_before = count_goodwill(session, 1)
    status, body = give_coupon(client, hid, "COUPON10", "cpn-1")
    again_status, again = give_coupon(client, hid, "COUPON10", "cpn-1")  # the double-click
    assert status == 201 and again_status == 201 and again == body, body
    assert body["points"] == 0 and body["value_points"] == 500 and body["coupon"]["name_zh"] == "10元优惠券"
    assert balance(session, 1) == before and count_goodwill(session, 1) == redemptions_before + 1
    entry = session.get(PointsEntry, body["entry_id"])
    assert entry is not None and entry.points == 0 and "COUPON10" in entry.reason and "parcel lost" in entry.reason
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == body["ticket_no"])).one()
    notes = [c.note or "" for c in session.scalars(select(TicketStatusChange).where(
        TicketStatusChange.ticket_id == ticket.id))]
    assert sum("[goodwill coupon COUPON10] parcel lost" in n for n in notes) == 1
    audited = [json.loads(a.details) for a in session.scalars(select(AuditLog).where(AuditLog.action == "gesture"))]
    assert [a["reward"] for a in audited if a.get("reward")] == ["COUPON10"]


def test_a_coupon_over_the_limit_or_unknown_is_refused_and_gives_nothing(
        client: TestClient, service_headers: dict[str, str], session: Session) -> None:
    hid = escalate(client, service_headers, "c-coupon-over", customer_id=1)
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    before = count_goodwill(session, 1)
    status, body = give_coupon(client, hid, "COUPON50", "cpn-2", lang="zh")  # 2,000 points > the agent's 500
    assert status == 422 and body["error"]["code"] == "over_limit" and "2000" in body["error"]["message"]
    status, body = give_coupon(client, hid, "NOSUCH", "cpn-3")
    assert status == 404 and body["error"]["code"] == "reward_not_found"
    both = client.post(f"/api/v1/handoffs/{hid}/gestures", headers={"Idempotency-Key": "cpn-4"},
                       json={"points": 10, "reward_code": "COUPON10", "reason": "sorry"})
    assert both.status_code == 422
    assert count_goodwill(session, 1) == before


def count_goodwill(session: Session, customer_id: int) -> int:
    session.expire_all()
    return len(session.scalars(select(Redemption).where(Redemption.customer_id == customer_id,
                                                        Redemption.status == "goodwill")).all())
