"""Tier evaluation and progress (rules in tier/rules.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.customer import repository as customers
from crm_backend.customer.models import Customer
from crm_backend.customer.service import get_customer
from crm_backend.order import repository as orders
from crm_backend.tier import rules


@dataclass
class TierStatus:
    tier: str
    spend_12m: Decimal
    next_tier: str | None
    progress_pct: float
    amount_to_next: Decimal


def spend_12m(session: Session, *, customer_id: int, now: datetime | None = None) -> Decimal:
    """Spend over the last 12 months (cancelled and refunded orders do not count)."""
    return orders.spend_since(session, customer_id, (now or utcnow()) - timedelta(days=365))


def status(session: Session, *, customer_id: int, now: datetime | None = None) -> TierStatus:
    customer = get_customer(session, customer_id=customer_id)
    spend = spend_12m(session, customer_id=customer_id, now=now)
    upcoming, pct, missing = rules.progress(customer.tier, spend)
    return TierStatus(tier=customer.tier, spend_12m=spend, next_tier=upcoming, progress_pct=pct,
                      amount_to_next=missing)


def evaluate_customer(session: Session, *, customer: Customer, now: datetime | None = None, review: bool) -> str:
    """Apply the tier rules to one customer (flushed with the caller's unit); returns the tier after evaluation."""
    now = now or utcnow()
    # A tier is kept for at least a year: downgrades only apply once it has been held that long.
    held_a_year = customer.tier_since is None or customer.tier_since <= now - timedelta(days=365)
    new_tier = rules.evaluate(customer.tier, spend_12m(session, customer_id=customer.id, now=now),
                              review=review and held_a_year)
    if new_tier != customer.tier:
        customer.tier = new_tier
        customer.tier_since = now
    return new_tier


def review_all(session: Session, *, now: datetime | None = None) -> int:
    """Periodic review of every customer; returns how many tiers changed."""
    changed = 0
    for customer in customers.all_by_id(session):
        before = customer.tier
        if evaluate_customer(session, customer=customer, now=now, review=True) != before:
            changed += 1
    session.flush()
    return changed
