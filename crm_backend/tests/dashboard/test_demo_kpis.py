"""Dashboard KPIs on the demo data (the five named customers' service history), computed by hand.

From crm_backend/demo/service_history.py, last 30 days (today included), 5 customers:
- complaints: 李娜 (2: day −20 resolved in time, day −6 high/silver 12 h still in progress) and
  陈静 (day −2, high/gold 8 h, open) → 2 / 5 = 40.0 %; SLA breaches: the two unresolved ones → 2 of 3 tickets;
- CSAT: 李娜 2 (day −15), 陈静 1 (day −1) → 1.5; NPS answers are all older than 30 days → none;
- conversations: 王伟 day −10 escalated, Emily day −2 bot, 张小明 day −3 bot, 陈静 day −2 escalated
  → escalation 50.0 %, containment 50.0 %; no handoff → no first-response time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.dashboard import service
from crm_backend.demo.service_history import generate as generate_service_history
from crm_backend.ticket.models import Ticket


def test_kpis_of_the_demo_data(session: Session, demo_now: datetime) -> None:
    if not session.scalar(select(func.count()).select_from(Ticket)):
        customers = list(session.scalars(select(Customer).where(Customer.id <= 5)))
        generate_service_history(session, rng=random.Random(7), customers=customers, now=demo_now)
        session.flush()
    assert session.scalar(select(func.count()).select_from(Customer)) == 5
    end = demo_now.date()
    figures = service.kpis(session, start=end - timedelta(days=29), end=end, now=demo_now)
    assert figures["customers_with_complaints"] == 2 and figures["customers"] == 5
    assert figures["complaint_rate"] == 40.0
    assert figures["avg_csat"] == 1.5 and figures["csat_responses"] == 2
    assert figures["nps"] is None and figures["nps_responses"] == 0
    assert figures["conversations"] == 4
    assert figures["escalation_rate"] == 50.0 and figures["containment_rate"] == 50.0
    assert figures["tickets"] == 3 and figures["sla_breaches"] == 2
    assert figures["first_response_seconds"] is None
    # over 90 days the older answers count: CSAT 5, 2, 4, 1 → 3.0; NPS 10, 4, 9 → (2 − 1) / 3 → 33.3
    wide = service.kpis(session, start=end - timedelta(days=89), end=end, now=demo_now)
    assert wide["avg_csat"] == 3.0 and wide["nps"] == 33.3
