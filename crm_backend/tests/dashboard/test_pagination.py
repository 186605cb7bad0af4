"""Dashboard tables a page at a time: limit/offset walk every row once, in order, with the right total."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.dashboard.service import CHURN_LIST_THRESHOLD
from crm_backend.handoff.models import AuditLog, Handoff
from crm_backend.scoring.models import CustomerScore
from testing.handoff import login

MARCH = "start=2001-03-01&end=2001-03-31"


def walk(client: TestClient, path: str, limit: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Every row of a paged table, page by page; and the totals each page reported."""
    rows: list[dict[str, Any]] = []
    totals: list[int] = []
    offset = 0
    while True:
        body = client.get(f"{path}&limit={limit}&offset={offset}").json()
        assert body["limit"] == limit and body["offset"] == offset
        assert len(body["items"]) <= limit
        totals.append(body["total"])
        rows += body["items"]
        if not body["items"]:
            return rows, totals
        offset += limit


@pytest.fixture
def at_risk(session: Session) -> list[int]:
    """23 customers at churn risk 0.99 down to 0.77 (above anything the demo data scores, so they come first)."""
    customers = [Customer(name_zh=f"分页{i}", name_en=f"Page {i}", phone=f"1980000{i:04d}", preferred_language="zh",
                          tier="regular", created_at=datetime(2000, 1, 1, tzinfo=UTC)) for i in range(23)]
    session.add_all(customers)
    session.flush()
    session.add_all([CustomerScore(customer_id=c.id, r=1, f=1, m=1, clv=1.0, current_value=0.1, potential_value=0.1,
                                   value_segment="low", lifecycle_stage="decline", satisfaction=20.0,
                                   churn_risk=0.99 - i / 100, churn_reasons=[], explanation={})
                     for i, c in enumerate(customers)])
    session.flush()
    return [c.id for c in customers]


def test_churn_pages_cover_every_customer_at_risk_once_riskiest_first(client: TestClient, session: Session,
                                                                      at_risk: list[int]) -> None:
    login(client, "supervisor")
    expected = session.scalar(select(func.count()).select_from(CustomerScore)
                              .where(CustomerScore.churn_risk >= CHURN_LIST_THRESHOLD))
    assert expected is not None and expected >= len(at_risk)
    rows, totals = walk(client, f"/api/v1/dashboard/churn?{MARCH}", limit=10)
    assert set(totals) == {expected}
    ids = [r["customer_id"] for r in rows]
    assert len(ids) == expected and len(set(ids)) == expected
    assert ids[:len(at_risk)] == at_risk
    scores = [r["churn_score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    second = client.get(f"/api/v1/dashboard/churn?{MARCH}&limit=10&offset=10").json()
    assert [r["customer_id"] for r in second["items"]] == at_risk[10:20]


def test_audit_and_queue_pages(client: TestClient, session: Session) -> None:
    session.add_all([AuditLog(agent_id=None, action="login", details="{}", created_at=datetime(2001, 3, d, tzinfo=UTC))
                     for d in range(1, 28)])
    session.add_all([Handoff(conversation_id=f"page-h{i}", channel="web", language="zh", reason="", reason_code="",
                             priority="normal", priority_rank=2, value_customer=False, status="waiting",
                             created_at=datetime(2001, 3, 1, 10, i, tzinfo=UTC), tracker_cursor=0.0)
                     for i in range(12)])
    session.flush()
    login(client, "supervisor")
    audit, totals = walk(client, f"/api/v1/dashboard/audit?{MARCH}", limit=5)
    assert set(totals) == {27} and len(audit) == 27
    assert [r["at"][:10] for r in audit] == [f"2001-03-{d:02d}" for d in range(27, 0, -1)]
    waiting = session.scalar(select(func.count()).select_from(Handoff).where(Handoff.status.in_(("waiting",
                                                                                                    "assigned"))))
    queue, totals = walk(client, f"/api/v1/dashboard/queue?{MARCH}", limit=5)
    assert set(totals) == {waiting} and len({r["id"] for r in queue}) == waiting


def test_whole_tables_and_bad_pages(client: TestClient) -> None:
    login(client, "supervisor")
    days = client.get(f"/api/v1/dashboard/timeseries?{MARCH}&limit=5").json()
    assert len(days["items"]) == 31 and days["total"] == 31 and days["offset"] == 0
    default = client.get(f"/api/v1/dashboard/audit?{MARCH}").json()
    assert default["limit"] == 20 and default["offset"] == 0
    for bad in ("limit=0", "limit=201", "offset=-1", "limit=ten"):
        response = client.get(f"/api/v1/dashboard/churn?{MARCH}&{bad}", headers={"Accept-Language": "zh"})
        assert response.status_code == 422, bad
    beyond = client.get(f"/api/v1/dashboard/churn?{MARCH}&offset=100000").json()
    assert beyond["items"] == [] and beyond["total"] >= 0
