"""Demo history: a past run of each default marketing playbook, with treated customers responding more often
than the holdout (response rates below), so the playbook page shows a plausible uplift on the demo data."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.order.models import Order
from crm_backend.playbook import repository, service
from crm_backend.playbook.models import Delivery, DeliveryStatus
from crm_backend.points import service as points

# playbook → (holdout's own purchase rate in the window, extra rate among treated customers)
RESPONSE = {"win_back": (0.05, 0.09), "upgrade_nudge": (0.18, 0.08), "birthday_double_points": (0.15, 0.06),
            "welcome": (0.12, 0.10)}
DEMO_ORDER_PREFIX = "KF8"
RUN_AGO = timedelta(days=21)


def seed_history(session: Session, *, rng: random.Random, now: datetime | None = None) -> str:
    now = now or utcnow()
    at = now - RUN_AGO
    service.ensure_defaults(session)
    seq = int(session.scalar(select(func.count()).select_from(Order)
                             .where(Order.order_no.like(f"{DEMO_ORDER_PREFIX}%"))) or 0)
    made = 0
    for key, (base, lift) in RESPONSE.items():
        playbook = repository.by_key(session, key)
        if playbook is None:
            continue
        started = service.start_run(session, playbook_id=playbook.id, now=at)
        window = playbook.window_days
        for row in session.scalars(select(Delivery).where(Delivery.run_id == started.run.id)):
            if row.status == DeliveryStatus.PENDING:
                row.status, row.channel, row.sent_at = DeliveryStatus.SENT, "widget", at
                if playbook.offer_kind == "points":
                    points.award_offer(session, customer_id=row.customer_id, points=playbook.offer_points,
                                       reason=f"{playbook.name_zh} {playbook.name_en}", key=f"playbook:{row.id}",
                                       now=at)
                    row.offer_points = playbook.offer_points
                elif playbook.offer_kind == "coupon":
                    row.coupon_code = f"KFC{row.id:08d}"
            if rng.random() < base + (lift if row.treated else 0.0):
                seq += 1
                placed = at + timedelta(days=rng.uniform(1, window - 1))
                session.add(Order(order_no=f"{DEMO_ORDER_PREFIX}{seq:07d}", customer_id=row.customer_id,
                                  status="delivered", shipping_status="delivered",
                                  total=Decimal(rng.randint(60, 600)), placed_at=placed, created_at=placed))
                made += 1
        session.flush()
    return f"playbook history: {made:,} responses to 4 past runs"
