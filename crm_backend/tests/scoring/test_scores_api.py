"""Scores over HTTP and the demo service history's documented facts (SQLite and PostgreSQL)."""

import random
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.demo.service_history import generate
from crm_backend.scoring.models import CustomerScore
from crm_backend.scoring.service import rescore_all, rescore_customer
from crm_backend.ticket.models import Ticket


def seed_history(session: Session, now: datetime) -> None:
    customers = list(session.scalars(select(Customer).order_by(Customer.id)))
    generate(session, rng=random.Random(1), customers=customers, now=now)
    assert rescore_all(session, now=now) == len(customers)


def test_named_customers_facts(session: Session, demo_now: datetime) -> None:
    seed_history(session, demo_now)
    scores = {s.customer_id: s for s in session.scalars(select(CustomerScore))}
    assert scores[1].value_segment == "value" and scores[1].churn_risk < 0.3
    li = scores[2]
    codes = {r["code"] for r in li.churn_reasons}
    assert {"interval_doubled", "recent_complaints", "no_recent_order"} <= codes
    assert "2 complaints in 30 days" in [r["en"] for r in li.churn_reasons]
    assert "30 天内投诉 2 次" in [r["zh"] for r in li.churn_reasons]
    assert li.churn_risk >= 0.8 and li.lifecycle_stage == "decline"
    assert scores[4].lifecycle_stage == "conversion"
    chen = scores[5]
    assert chen.satisfaction < 40
    open_delivery = session.scalars(select(Ticket).where(Ticket.customer_id == 5, Ticket.status == "open")).all()
    assert [(t.category, t.order_no, t.kind) for t in open_delivery] == [("delivery", "KF20250005", "complaint")]


def test_scores_endpoint_explains(client: TestClient, service_headers: dict, session: Session,
                                  demo_now: datetime) -> None:
    seed_history(session, demo_now)
    r = client.get("/api/v1/customers/2/scores", headers={**service_headers, "Accept-Language": "zh"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["rfm"]) == {"r", "f", "m"} and all(1 <= v <= 5 for v in body["rfm"].values())
    assert body["churn_level"] == "high"
    assert "30 天内投诉 2 次" in body["reasons"]
    assert any(reason.startswith("购买间隔翻倍") for reason in body["reasons"])
    explanation = body["explanation"]
    for part in ("rfm", "clv", "value_segment", "lifecycle", "satisfaction", "churn"):
        assert explanation[part]["formula"], part
    assert explanation["satisfaction"]["signals"]
    assert explanation["value_segment"]["name_zh"] in {"价值客户", "潜价值客户", "次价值客户", "低价值客户"}
    en = client.get("/api/v1/customers/2/scores", headers=service_headers).json()
    assert "2 complaints in 30 days" in en["reasons"]
    assert client.get("/api/v1/customers/99999/scores", headers=service_headers).json()["error"]["code"] == \
        "customer_not_found"
    assert client.get("/api/v1/customers/2/scores").status_code == 401


def test_scores_are_computed_on_demand_and_on_events(client: TestClient, service_headers: dict,
                                                     session: Session) -> None:
    before = client.get("/api/v1/customers/4/scores", headers=service_headers).json()
    client.post("/api/v1/feedback", headers=service_headers,
                json={"customer_id": 4, "kind": "csat", "score": 1, "channel": "web"})
    after = client.get("/api/v1/customers/4/scores", headers=service_headers).json()
    assert after["satisfaction"] < before["satisfaction"]
    assert rescore_customer(session, customer_id=99999) is None


def test_stale_scores_are_recomputed(session: Session, demo_now: datetime) -> None:
    from datetime import timedelta

    from crm_backend.scoring.service import get_scores

    first = get_scores(session, customer_id=3, now=demo_now)
    computed = first.computed_at
    assert get_scores(session, customer_id=3, now=demo_now + timedelta(hours=1)).computed_at == computed
    later = get_scores(session, customer_id=3, now=demo_now + timedelta(days=2))
    assert later.computed_at > computed
    assert later.explanation["rfm"]["inputs"]["recency_days"] >= 2
