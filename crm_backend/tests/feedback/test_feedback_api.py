"""Feedback over HTTP: ranges, follow-up tickets, redaction, idempotency."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.feedback.models import Feedback
from crm_backend.ticket.models import Ticket


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_low_csat_opens_follow_up_and_redacts(client: TestClient, service_headers: dict, session: Session) -> None:
    r = client.post("/api/v1/feedback", headers=service_headers, json={
        "customer_id": 4, "kind": "csat", "score": 1, "channel": "web", "conversation_id": "conv-f1",
        "text": "太差了，客服不理人，我邮箱 zhang@example.com"})
    assert r.status_code == 201, r.text
    follow_up = r.json()["follow_up_ticket_no"]
    assert follow_up and follow_up.startswith("T")
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == follow_up)).one()
    assert ticket.kind == "callback" and ticket.customer_id == 4 and ticket.severity == "high"
    assert "zhang@example.com" not in ticket.description
    row = session.get(Feedback, r.json()["feedback_id"])
    assert row is not None and row.text is not None and "[EMAIL]" in row.text and row.follow_up_ticket_id == ticket.id
    assert row.sentiment is not None and row.sentiment < 0


def test_scores_that_do_not_open_tickets(client: TestClient, service_headers: dict) -> None:
    for body in ({"kind": "csat", "score": 3}, {"kind": "nps", "score": 7}, {"kind": "nps", "score": 10},
                 {"kind": "suggestion", "text": "add dark mode please"}):
        r = client.post("/api/v1/feedback", headers=service_headers, json={"customer_id": 1, "channel": "web", **body})
        assert r.status_code == 201, r.text
        assert r.json()["follow_up_ticket_no"] is None
    nps_low = client.post("/api/v1/feedback", headers=service_headers,
                          json={"customer_id": 1, "kind": "nps", "score": 6, "channel": "web"})
    assert nps_low.json()["follow_up_ticket_no"]


def test_linked_ticket_gives_customer(client: TestClient, service_headers: dict, session: Session) -> None:
    no = client.post("/api/v1/tickets", headers=service_headers, json={
        "customer_id": 3, "severity": "medium", "channel": "web", "description": "where is my parcel"}).json()[
        "ticket_no"]
    r = client.post("/api/v1/feedback", headers=service_headers,
                    json={"kind": "csat", "score": 5, "ticket_no": no, "channel": "web", "agent_id": 1})
    assert r.status_code == 201, r.text
    row = session.get(Feedback, r.json()["feedback_id"])
    assert row is not None and row.customer_id == 3 and row.ticket_id is not None


def test_bad_input_changes_nothing(client: TestClient, service_headers: dict, session: Session) -> None:
    before = count(session, Feedback), count(session, Ticket)
    cases: list[tuple[dict[str, object], int, str]] = [
        ({"kind": "nps", "score": 11}, 422, "validation_error"),
        ({"kind": "nps", "score": -1}, 422, "validation_error"),
        ({"kind": "csat", "score": 0}, 422, "validation_error"),
        ({"kind": "csat", "score": 6}, 422, "validation_error"),
        ({"kind": "csat"}, 422, "validation_error"),
        ({"kind": "suggestion", "text": "  "}, 422, "validation_error"),
        ({"kind": "csat", "score": 1, "customer_id": 99999}, 404, "customer_not_found"),
        ({"kind": "csat", "score": 1, "ticket_no": "T999999"}, 404, "ticket_not_found"),
        ({"kind": "csat", "score": 1, "agent_id": 99999}, 404, "agent_not_found"),
    ]
    for body, status, code in cases:
        r = client.post("/api/v1/feedback", headers=service_headers, json={"channel": "web", **body})
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    malformed = client.post("/api/v1/feedback", headers={**service_headers, "Content-Type": "application/json"},
                            content=b"{not json")
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "validation_error"
    assert client.post("/api/v1/feedback", json={"kind": "csat", "score": 4}).status_code == 401
    assert (count(session, Feedback), count(session, Ticket)) == before


def test_idempotency(client: TestClient, service_headers: dict, session: Session) -> None:
    headers = {**service_headers, "Idempotency-Key": "fb-1"}
    body = {"customer_id": 2, "kind": "csat", "score": 2, "channel": "web"}
    first = client.post("/api/v1/feedback", headers=headers, json=body)
    follow_up = session.scalars(select(Ticket).where(Ticket.ticket_no == first.json()["follow_up_ticket_no"])).one()
    assert follow_up.severity == "medium"  # CSAT 2: medium; CSAT 1 or NPS ≤ 3: high
    n = count(session, Feedback), count(session, Ticket)
    again = client.post("/api/v1/feedback", headers=headers, json=body)
    assert again.status_code == 201 and again.json() == first.json()
    other = client.post("/api/v1/feedback", headers=headers, json={**body, "score": 3})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert (count(session, Feedback), count(session, Ticket)) == n


def test_a_comment_after_a_detractor_score_reaches_the_feedback_and_its_follow_up_ticket(
        client: TestClient, service_headers: dict, session: Session) -> None:
    created = client.post("/api/v1/feedback", headers=service_headers, json={
        "customer_id": 2, "kind": "nps", "score": 3, "channel": "web", "conversation_id": "conv-c1"}).json()
    body = {"text": "快递太慢了，打了13800000009也没人接", "conversation_id": "conv-c1"}
    headers = {**service_headers, "Idempotency-Key": "comment-c1"}
    first = client.post(f"/api/v1/feedback/{created['feedback_id']}/comment", headers=headers, json=body)
    again = client.post(f"/api/v1/feedback/{created['feedback_id']}/comment", headers=headers, json=body)
    assert first.status_code == 200, first.text
    assert again.json() == first.json() == {"feedback_id": created["feedback_id"],
                                             "follow_up_ticket_no": created["follow_up_ticket_no"]}
    row = session.get(Feedback, created["feedback_id"])
    assert row is not None and row.text is not None
    assert "快递太慢了" in row.text and "13800000009" not in row.text and row.text.count("快递太慢了") == 1
    assert row.sentiment is not None and row.sentiment < 0
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == created["follow_up_ticket_no"])).one()
    assert ticket.description.count("客户留言 Comment: 快递太慢了") == 1 and "13800000009" not in ticket.description


def test_a_comment_after_a_promoter_score_has_no_ticket(client: TestClient, service_headers: dict,
                                                        session: Session) -> None:
    created = client.post("/api/v1/feedback", headers=service_headers, json={
        "kind": "nps", "score": 10, "channel": "web", "conversation_id": "conv-c2"}).json()
    r = client.post(f"/api/v1/feedback/{created['feedback_id']}/comment", headers=service_headers,
                    json={"text": "Great service, thanks!", "conversation_id": "conv-c2"})
    assert r.status_code == 200 and r.json()["follow_up_ticket_no"] is None
    row = session.get(Feedback, created["feedback_id"])
    assert row is not None and row.text == "Great service, thanks!" and (row.sentiment or 0) > 0


def test_a_comment_for_another_conversation_or_unknown_feedback_is_refused(
        client: TestClient, service_headers: dict, session: Session) -> None:
    created = client.post("/api/v1/feedback", headers=service_headers, json={
        "kind": "csat", "score": 4, "channel": "web", "conversation_id": "conv-c3"}).json()
    other = client.post(f"/api/v1/feedback/{created['feedback_id']}/comment",
                        headers={**service_headers, "Accept-Language": "zh-CN"},
                        json={"text": "hello", "conversation_id": "conv-other"})
    assert other.status_code == 404 and other.json()["error"]["code"] == "feedback_not_found"
    assert "未找到评价" in other.json()["error"]["message"]
    missing = client.post("/api/v1/feedback/999999/comment", headers=service_headers,
                          json={"text": "hello", "conversation_id": "conv-c3"})
    assert missing.status_code == 404
    empty = client.post(f"/api/v1/feedback/{created['feedback_id']}/comment", headers=service_headers,
                        json={"text": "", "conversation_id": "conv-c3"})
    assert empty.status_code == 422
    row = session.get(Feedback, created["feedback_id"])
    assert row is not None and row.text is None
