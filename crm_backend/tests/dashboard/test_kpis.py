"""Dashboard KPIs against hand-computed values on a small fixture dataset (March 2001, no demo data there)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.dashboard import kpi, service
from crm_backend.feedback.models import Feedback
from crm_backend.handoff.models import Handoff
from crm_backend.interaction.models import Interaction
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket
from testing.handoff import login

START, END = date(2001, 3, 1), date(2001, 3, 31)
NOW = datetime(2001, 4, 1, tzinfo=UTC)


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2001, month, day, hour, minute, second, tzinfo=UTC)


def ticket(no: str, customer: int | None, kind: str, created: datetime, due: datetime,
           resolved: datetime | None) -> Ticket:
    return Ticket(ticket_no=no, customer_id=customer, kind=kind, category="delivery", severity="medium",
                  channel="web", status="resolved" if resolved else "open", summary=no, description=no,
                  sla_hours=24, sla_due_at=due, created_at=created, updated_at=created, resolved_at=resolved)


@pytest.fixture
def dataset(session: Session) -> list[int]:
    customers = [Customer(name_zh=f"测试{i}", name_en=f"Test {i}", phone=f"1990000000{i}", preferred_language="zh",
                          tier="regular", created_at=datetime(2000, 1, 1, tzinfo=UTC)) for i in range(4)]
    session.add_all(customers)
    session.flush()
    a, b, c, _d = (x.id for x in customers)
    session.add_all([
        # complaints by a (twice) and b → 2 of 4 customers: 50.0 %
        ticket("T900001", a, "complaint", at(1), due=at(2), resolved=at(1, 18)),   # in time
        ticket("T900002", a, "complaint", at(2), due=at(3), resolved=at(5)),       # breach: resolved late
        ticket("T900003", b, "complaint", at(5), due=at(10), resolved=None),       # breach: open past due
        ticket("T900004", c, "request", at(6), due=at(1, month=5), resolved=None),  # open, not yet due
    ])
    # CSAT 5, 4, 1 in March → 3.33; one CSAT in April is outside the period
    session.add_all([Feedback(kind="csat", score=s, channel="web", created_at=at(d)) for s, d in ((5, 1), (4, 1),
                                                                                                   (1, 20))])
    session.add(Feedback(kind="csat", score=1, channel="web", created_at=at(5, month=4)))
    # NPS 10, 9, 8, 3 → promoters 2, detractors 1 of 4 → 25.0
    session.add_all([Feedback(kind="nps", score=s, channel="web", created_at=at(3)) for s in (10, 9, 8, 3)])
    # 10 conversations: 3 escalated (30.0 %), 6 resolved by the bot (60.0 %), 1 abandoned
    flags = [(True, False)] * 3 + [(False, True)] * 6 + [(False, False)]
    session.add_all([Interaction(conversation_id=f"kpi-{i}", channel="web", intents=[], escalated=e,
                                 resolved_by_bot=r, created_at=at(1 + i), updated_at=at(1 + i))
                     for i, (e, r) in enumerate(flags)])
    # first responses after 90 s and 270 s → 180.0 s; the third handoff has no answer yet
    for i, (created, answered) in enumerate([(at(1), at(1, 10, 1, 30)), (at(2), at(2, 10, 4, 30)), (at(3), None)]):
        session.add(Handoff(conversation_id=f"kpi-h{i}", channel="web", language="zh", reason="", reason_code="",
                            priority="normal", priority_rank=2, value_customer=False, status="resolved",
                            created_at=created, first_response_at=answered, tracker_cursor=0.0))
    session.add_all([
        CustomerScore(customer_id=a, r=1, f=1, m=1, clv=10.0, current_value=0.1, potential_value=0.1,
                      value_segment="low", lifecycle_stage="decline", satisfaction=30.0, churn_risk=0.85,
                      churn_reasons=[{"code": "recent_complaints", "weight": 0.3, "en": "2 complaints in 30 days",
                                      "zh": "30天内投诉2次"}], explanation={}),
        CustomerScore(customer_id=b, r=5, f=5, m=5, clv=900.0, current_value=0.9, potential_value=0.9,
                      value_segment="value", lifecycle_stage="retention", satisfaction=90.0, churn_risk=0.1,
                      churn_reasons=[], explanation={}),
    ])
    session.flush()
    return [a, b, c]


def test_kpis_match_hand_computed_values(session: Session, dataset: list[int]) -> None:
    figures = service.kpis(session, start=START, end=END, now=NOW)
    assert figures["avg_csat"] == 3.33
    assert figures["csat_responses"] == 3
    assert figures["nps"] == 25.0
    assert figures["customers_with_complaints"] == 2 and figures["customers"] == 4
    assert figures["complaint_rate"] == 50.0
    assert figures["escalation_rate"] == 30.0
    assert figures["containment_rate"] == 60.0
    assert figures["first_response_seconds"] == 180.0
    assert figures["sla_breaches"] == 2
    assert figures["tickets"] == 4


def test_timeseries_segments_and_churn_list(session: Session, dataset: list[int]) -> None:
    days = service.timeseries(session, start=START, end=END)
    assert len(days) == 31
    assert days[0] == {"day": "2001-03-01", "conversations": 1, "escalations": 1, "csat": 4.5}
    assert sum(d["escalations"] for d in days) == 3
    churn = [row for row in service.churn_list(session, language="zh")[0] if row["customer_id"] == dataset[0]]
    assert churn and churn[0]["churn_score"] == 0.85
    assert churn[0]["reasons_text"] == "30天内投诉2次"
    assert churn[0]["action"] == kpi.RETENTION_ACTIONS["recent_complaints"][0]
    assert dataset[1] not in [row["customer_id"] for row in service.churn_list(session)[0]]
    counts = {s["segment"]: s["customers"] for s in service.segments(session)}
    assert counts["value"] >= 1 and counts["low"] >= 1


def test_formulas_on_edge_cases() -> None:
    assert kpi.nps([]) is None and kpi.nps([9, 10]) == 100.0 and kpi.nps([0, 6, 7]) == -66.7
    assert kpi.complaint_rate(0, 0) is None and kpi.complaint_rate(1, 3) == 33.3
    now = NOW
    assert kpi.sla_breached(None, None, now) is False
    assert kpi.sla_breached(now - timedelta(hours=1), None, now) is True
    assert kpi.sla_breached(now, now - timedelta(hours=1), now) is False
    assert kpi.retention_action(["unknown", "no_recent_order"], "en") == kpi.RETENTION_ACTIONS["no_recent_order"][1]


def test_dashboard_api_is_for_supervisors_and_exports_csv(client: TestClient, dataset: list[int]) -> None:
    login(client, "agent1")
    assert client.get("/api/v1/dashboard/kpis?start=2001-03-01&end=2001-03-31").status_code == 403
    login(client, "supervisor")
    body = client.get("/api/v1/dashboard/kpis?start=2001-03-01&end=2001-03-31").json()
    assert body["complaint_rate"] == 50.0 and body["nps"] == 25.0
    assert client.get("/api/v1/dashboard/kpis?start=2001-03-31&end=2001-03-01").status_code == 422
    for name in ("kpis", "timeseries", "segments", "churn", "agents", "queue", "audit"):
        csv = client.get(f"/api/v1/dashboard/export/{name}.csv?start=2001-03-01&end=2001-03-31&lang=zh")
        assert csv.status_code == 200, name
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.lstrip("\ufeff").splitlines()
        assert len(lines) >= (1 if name in ("queue", "audit") else 2), name
        assert "empty" not in lines[0]
    kpi_csv = client.get("/api/v1/dashboard/export/kpis.csv?start=2001-03-01&end=2001-03-31").text
    assert "complaint_rate" in kpi_csv.splitlines()[0] and ",50.0," in kpi_csv.splitlines()[1]
    assert client.get("/api/v1/dashboard/export/nope.csv").status_code == 404


def test_audit_trail_lists_console_actions(client: TestClient) -> None:
    login(client, "supervisor")
    today = datetime.now(UTC).date().isoformat()
    rows = client.get(f"/api/v1/dashboard/audit?start={today}&end={today}").json()["items"]
    assert any(r["action"] == "login" and "Supervisor" in r["agent"] for r in rows)
