"""Orders: lookups for the assistant, creation (earns points, may upgrade the tier) and shipping events."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.core import idempotency
from crm_backend.core.db import utcnow
from crm_backend.core.errors import DomainError, InvalidTransition, NotFoundError
from crm_backend.customer.models import Customer, Referral
from crm_backend.customer.service import get_customer
from crm_backend.order.models import Order, OrderItem, ShippingEvent
from crm_backend.order.schemas import OrderIn, ShippingEventIn
from crm_backend.points import service as points
from crm_backend.points.models import PointsEntry
from crm_backend.tier import service as tiers

log = logging.getLogger(__name__)
NEW_ORDER_BASE = 50_000_000  # new order numbers: KF5xxxxxxx (demo history uses KF1…/KF2025000x)

# Shipping moves forward only; `returned` can follow any shipped state.
SHIPPING_NEXT = {
    "not_shipped": {"picked_up", "in_transit", "out_for_delivery", "delivered"},
    "in_transit": {"in_transit", "out_for_delivery", "delivered", "returned"},
    "out_for_delivery": {"out_for_delivery", "delivered", "returned", "in_transit"},
    "delivered": {"returned"},
    "returned": set(),
}


class OrderNotFound(NotFoundError):
    def __init__(self, order_no: str) -> None:
        super().__init__(f"Order {order_no} not found", f"未找到订单 {order_no}", code="order_not_found")


def list_orders(session: Session, *, customer_id: int, limit: int, offset: int,
                status: str | None = None) -> tuple[list[tuple[Order, int]], int]:
    """(order, item count) newest first."""
    get_customer(session, customer_id=customer_id)
    query = select(Order).where(Order.customer_id == customer_id)
    if status:
        query = query.where(Order.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    counts = (select(OrderItem.order_id, func.coalesce(func.sum(OrderItem.qty), 0).label("n"))
              .group_by(OrderItem.order_id).subquery())
    rows = session.execute(
        select(Order, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.order_id == Order.id)
        .where(Order.id.in_(select(query.subquery().c.id)))
        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    ).all()
    return [(order, int(n)) for order, n in rows], total


def get_order(session: Session, *, customer_id: int, order_no: str) -> Order:
    """The customer's order; another customer's order is reported as not found."""
    get_customer(session, customer_id=customer_id)
    order = session.scalars(select(Order).where(Order.order_no == order_no.strip().upper(),
                                                Order.customer_id == customer_id)).first()
    if order is None:
        raise OrderNotFound(order_no)
    return order


def points_earned(session: Session, *, order: Order) -> int:
    return session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.order_id == order.id, PointsEntry.kind == "earn")) or 0


def create_order(session: Session, *, customer_id: int, data: OrderIn, idempotency_key: str | None,
                 now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """Record a paid order, credit its points, reward the referrer on a first order, upgrade the tier."""
    now = now or utcnow()
    key = idempotency.check_key(idempotency_key)
    payload = data.model_dump(mode="json")
    scope = f"order:{customer_id}"
    try:
        points.lock_account(session, customer_id=customer_id)  # serializes this customer's writes
        replay = idempotency.lookup(session, scope=scope, key=key, payload=payload)
        if replay is not None:
            session.rollback()
            return replay
        customer = get_customer(session, customer_id=customer_id)
        first_order = not session.scalar(select(func.count()).select_from(Order).where(
            Order.customer_id == customer_id))
        total = sum((item.price * item.qty for item in data.items), Decimal(0))
        order = Order(order_no=f"TMP{uuid.uuid4().hex[:7]}", customer_id=customer_id, status="paid",
                      shipping_status="not_shipped", total=total, currency=data.currency, placed_at=now,
                      created_at=now)
        session.add(order)
        session.flush()
        order.order_no = f"KF{NEW_ORDER_BASE + order.id:08d}"
        session.add_all(OrderItem(order_id=order.id, **item.model_dump()) for item in data.items)
        earned = points.earn_for_order(session, customer=customer, order_id=order.id, amount=total, now=now,
                                       commit=False)
        if first_order:
            _reward_referrer(session, customer=customer, now=now)
        new_tier = tiers.evaluate_customer(session, customer=customer, now=now, review=False)
        body = {"order_no": order.order_no, "status": order.status, "total": float(total),
                "currency": order.currency, "points_earned": earned.points if earned else 0, "tier": new_tier}
        idempotency.store(session, scope=scope, key=key, payload=payload, status_code=201, response=body)
        session.commit()
    except DomainError:
        session.rollback()
        raise
    _rescore(session, customer_id)
    return 201, body


def _reward_referrer(session: Session, *, customer: Customer, now: datetime) -> None:
    if customer.referred_by is None:
        return
    referral = session.scalars(select(Referral).where(Referral.referred_id == customer.id)).first()
    if referral is None:
        referral = Referral(referrer_id=customer.referred_by, referred_id=customer.id, created_at=now)
        session.add(referral)
    if referral.rewarded_at is not None:
        return
    entry = points.award_referral(session, referrer_id=customer.referred_by, referred_id=customer.id, now=now,
                                  commit=False)
    referral.points_awarded = entry.points
    referral.rewarded_at = now


def add_shipping_event(session: Session, *, order_no: str, data: ShippingEventIn,
                       now: datetime | None = None) -> Order:
    """Append a carrier event and move the order's shipping status forward (409 `invalid_transition`)."""
    order = session.scalars(select(Order).where(Order.order_no == order_no.strip().upper())).first()
    if order is None:
        raise OrderNotFound(order_no)
    target = "in_transit" if data.status == "picked_up" else data.status
    allowed = SHIPPING_NEXT.get(order.shipping_status, set())
    if data.status not in allowed and target not in allowed:
        raise InvalidTransition(order.shipping_status, data.status)
    if order.status in {"cancelled", "refunded"}:
        raise InvalidTransition(order.status, data.status)
    session.add(ShippingEvent(order_id=order.id, at=data.at or now or utcnow(), status=data.status,
                              location=data.location, description_zh=data.description_zh,
                              description_en=data.description_en))
    order.shipping_status = target
    if data.carrier:
        order.carrier = data.carrier
    if data.tracking_no:
        order.tracking_no = data.tracking_no
    if target == "delivered":
        order.status = "delivered"
    elif order.status == "paid":
        order.status = "shipped"
    session.commit()
    session.refresh(order)
    return order


def _rescore(session: Session, customer_id: int) -> None:
    """Scores follow orders; a scoring failure must not undo the order that was just recorded."""
    try:
        from crm_backend.scoring.service import rescore_customer

        rescore_customer(session, customer_id=customer_id)
        session.commit()
    except Exception:  # logged; the order stands
        session.rollback()
        log.exception("rescoring customer %s after an order failed", customer_id)


def close_order(session: Session, *, customer_id: int, order_no: str, action: str,
                now: datetime | None = None) -> Order:
    """Cancel (before shipping) or refund (after payment) an order; the points it earned are reversed."""
    now = now or utcnow()
    try:
        points.lock_account(session, customer_id=customer_id)
        order = get_order(session, customer_id=customer_id, order_no=order_no)
        target = "cancelled" if action == "cancel" else "refunded"
        allowed = {"cancel": {"pending", "paid"}, "refund": {"paid", "shipped", "delivered"}}[action]
        if order.status not in allowed or (action == "cancel" and order.shipping_status != "not_shipped"):
            raise InvalidTransition(order.status, target)
        order.status = target
        if action == "refund" and order.shipping_status != "not_shipped":
            order.shipping_status = "returned"
        points.reverse_order_points(session, customer_id=customer_id, order_id=order.id, now=now, commit=False)
        session.commit()
    except DomainError:
        session.rollback()
        raise
    _rescore(session, customer_id)
    session.refresh(order)
    return order
