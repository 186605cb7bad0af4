"""Orders: lookups for the assistant, recording a paid order, closing one, and shipping events.

Points, tier and referral rewards that follow an order are the loyalty package's business
(`loyalty/service.py`), which calls these functions; this package knows nothing of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_backend.core import events
from crm_backend.core.db import utcnow
from crm_backend.core.errors import InvalidTransition
from crm_backend.customer.service import get_customer
from crm_backend.order import repository
from crm_backend.order.errors import OrderNotFound
from crm_backend.order.models import Order, OrderItem, ShippingEvent
from crm_backend.order.schemas import OrderIn, ShippingEventIn

NEW_ORDER_BASE = 50_000_000  # new order numbers: KF5xxxxxxx (demo history uses KF1…/KF2025000x)

# Shipping moves forward only; `returned` can follow any shipped state.
SHIPPING_NEXT = {
    "not_shipped": {"picked_up", "in_transit", "out_for_delivery", "delivered"},
    "in_transit": {"in_transit", "out_for_delivery", "delivered", "returned"},
    "out_for_delivery": {"out_for_delivery", "delivered", "returned", "in_transit"},
    "delivered": {"returned"},
    "returned": set(),
}
CLOSABLE = {"cancel": {"pending", "paid"}, "refund": {"paid", "shipped", "delivered"}}


def list_orders(session: Session, *, customer_id: int, limit: int, offset: int,
                status: str | None = None) -> tuple[list[tuple[Order, int]], int]:
    """(order, item count) newest first."""
    get_customer(session, customer_id=customer_id)
    return repository.for_customer(session, customer_id, status=status, limit=limit, offset=offset)


def get_order(session: Session, *, customer_id: int, order_no: str) -> Order:
    """The customer's order; another customer's order is reported as not found."""
    get_customer(session, customer_id=customer_id)
    order = repository.by_no(session, order_no, customer_id=customer_id)
    if order is None:
        raise OrderNotFound(order_no)
    return order


def record_order(session: Session, *, customer_id: int, data: OrderIn, now: datetime) -> Order:
    """Insert a paid order with its items (flushed, numbered)."""
    total = sum((item.price * item.qty for item in data.items), Decimal(0))
    order = Order(order_no=f"TMP{uuid.uuid4().hex[:7]}", customer_id=customer_id, status="paid",
                  shipping_status="not_shipped", total=total, currency=data.currency, placed_at=now, created_at=now)
    session.add(order)
    session.flush()
    order.order_no = f"KF{NEW_ORDER_BASE + order.id:08d}"
    session.add_all(OrderItem(order_id=order.id, **item.model_dump()) for item in data.items)
    session.flush()
    events.emit(session, events.CustomerChanged(customer_id))
    return order


def close(session: Session, *, order: Order, action: str) -> Order:
    """Cancel (before shipping) or refund (after payment); 409 `invalid_transition` otherwise."""
    target = "cancelled" if action == "cancel" else "refunded"
    if order.status not in CLOSABLE[action] or (action == "cancel" and order.shipping_status != "not_shipped"):
        raise InvalidTransition(order.status, target)
    order.status = target
    if action == "refund" and order.shipping_status != "not_shipped":
        order.shipping_status = "returned"
    session.flush()
    events.emit(session, events.CustomerChanged(order.customer_id))
    return order


def add_shipping_event(session: Session, *, order_no: str, data: ShippingEventIn,
                       now: datetime | None = None) -> Order:
    """Append a carrier event and move the order's shipping status forward (409 `invalid_transition`)."""
    order = repository.by_no(session, order_no)
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
    session.flush()
    session.refresh(order)
    return order
