"""What an order means for loyalty: points earned (tier multiplier, birthday double), the referrer's reward
on a first order, a tier upgrade; and points reversed when the order is cancelled or refunded.

This package composes order, points and tier, so that none of them needs the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.customer.service import get_customer
from crm_backend.loyalty.referrals import reward_referrer
from crm_backend.order import repository as orders
from crm_backend.order import service as order_service
from crm_backend.order.models import Order
from crm_backend.order.schemas import OrderIn
from crm_backend.points import service as points
from crm_backend.tier import service as tiers


@dataclass
class Placed:
    order: Order
    points_earned: int
    tier: str


def place_order(session: Session, *, customer_id: int, data: OrderIn, now: datetime | None = None) -> Placed:
    """Record a paid order, credit its points, reward the referrer on a first order, upgrade the tier."""
    now = now or utcnow()
    points.lock_account(session, customer_id=customer_id)  # serializes this customer's writes
    customer = get_customer(session, customer_id=customer_id)
    first_order = not orders.count_for_customer(session, customer_id)
    order = order_service.record_order(session, customer_id=customer_id, data=data, now=now)
    earned = points.earn_for_order(session, customer=customer, order_id=order.id, amount=order.total, now=now)
    if first_order:
        reward_referrer(session, customer=customer, now=now)
    tier = tiers.evaluate_customer(session, customer=customer, now=now, review=False)
    return Placed(order, earned.points if earned else 0, tier)


def close_order(session: Session, *, customer_id: int, order_no: str, action: str,
                now: datetime | None = None) -> Order:
    """Cancel (before shipping) or refund (after payment) an order; the points it earned are reversed."""
    points.lock_account(session, customer_id=customer_id)
    order = order_service.get_order(session, customer_id=customer_id, order_no=order_no)
    order_service.close(session, order=order, action=action)
    points.reverse_order_points(session, customer_id=customer_id, order_id=order.id, now=now)
    session.refresh(order)
    return order
