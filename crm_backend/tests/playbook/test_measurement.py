"""Holdout assignment and uplift with its 95 % confidence interval."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crm_backend.playbook import service
from crm_backend.playbook.models import Delivery, PlaybookRun
from crm_backend.playbook.schemas import PlaybookIn
from crm_backend.tests.playbook.conftest import add_order, make_customer


def test_holdout_is_random_reproducible_and_ten_percent_by_default() -> None:
    share = sum(service.in_holdout(7, "2026-01-01", cid, 0.10) for cid in range(20_000)) / 20_000
    assert 0.09 < share < 0.11
    assert [service.in_holdout(7, "x", c, 0.1) for c in range(50)] == [service.in_holdout(7, "x", c, 0.1)
                                                                       for c in range(50)]
    assert PlaybookIn(name_zh="a", name_en="a", template_zh="x", template_en="x").holdout_pct == 0.10


def test_uplift_and_confidence_interval(session: Session, now: datetime) -> None:
    pb = service.create(session, data=PlaybookIn(name_zh="测", name_en="measure", template_zh="x",
                                                 template_en="x", window_days=14), key="measure_test", by=None)
    run = PlaybookRun(playbook_id=pb.id, occurrence="m", started_at=now - timedelta(days=20), treated=20, holdout=10)
    session.add(run)
    session.flush()
    for i in range(30):
        customer = make_customer(session, now)
        treated = i < 20
        session.add(Delivery(run_id=run.id, playbook_id=pb.id, customer_id=customer.id, occurrence_key="m",
                             treated=treated, status="sent" if treated else "holdout", created_at=run.started_at))
        # 10 of 20 treated and 2 of 10 holdout buy within the window; one holdout buys after it (not counted).
        if (treated and i < 10) or (not treated and i < 22):
            add_order(session, customer, placed_at=run.started_at + timedelta(days=3))
        if i == 29:
            add_order(session, customer, placed_at=run.started_at + timedelta(days=15))
    session.flush()
    m = service.measure(session, playbook_id=pb.id, run_id=run.id)
    assert (m.treated.customers, m.treated.converted, m.holdout.customers, m.holdout.converted) == (20, 10, 10, 2)
    assert m.uplift == 0.3
    se = math.sqrt(0.5 * 0.5 / 20 + 0.2 * 0.8 / 10)
    assert abs(m.ci95_low - (0.3 - 1.96 * se)) < 1e-3 and abs(m.ci95_high - (0.3 + 1.96 * se)) < 1e-3
    assert m.sent == 20


def test_demo_history_shows_uplift(session: Session, now: datetime) -> None:
    import random

    from crm_backend.playbook import demo, repository

    for _ in range(300):
        make_customer(session, now, stage="decline", churn=0.9)
    note = demo.seed_history(session, rng=random.Random(7), now=now)
    assert note.startswith("playbook history")
    win_back = repository.by_key(session, "win_back")
    assert win_back is not None
    m = service.measure(session, playbook_id=win_back.id)
    assert m.treated.customers >= 250 and m.holdout.customers >= 15
    assert m.treated.rate > m.holdout.rate and m.offer_points == 200 * m.sent
