"""The purchase history the recommender reads: who bought which SKU (counted orders only), and the catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.order.models import Order, OrderItem
from crm_backend.scoring.service import COUNTED_STATUSES


def baskets(session: Session) -> dict[int, set[str]]:
    """customer id → the SKUs they have bought (paid, shipped or delivered orders)."""
    found: dict[int, set[str]] = {}
    rows = session.execute(select(Order.customer_id, OrderItem.sku).join(OrderItem, OrderItem.order_id == Order.id)
                           .where(Order.status.in_(COUNTED_STATUSES)).distinct())
    for customer_id, sku in rows:
        found.setdefault(customer_id, set()).add(sku)
    return found


def bought_since(session: Session, customer_id: int, since: datetime) -> set[str]:
    rows = session.scalars(select(OrderItem.sku).join(Order, OrderItem.order_id == Order.id).where(
        Order.customer_id == customer_id, Order.status.in_(COUNTED_STATUSES), Order.placed_at >= since).distinct())
    return set(rows)


def tiers(session: Session, customer_ids: set[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.tier).where(Customer.id.in_(sorted(customer_ids))))
    return {customer_id: tier for customer_id, tier in rows}


def catalog(session: Session) -> dict[str, tuple[str, str, Decimal]]:
    """SKU → (name zh, name en, price) as last sold."""
    last = (select(OrderItem.sku, func.max(OrderItem.id).label("id")).group_by(OrderItem.sku).subquery())
    rows = session.execute(select(OrderItem.sku, OrderItem.name_zh, OrderItem.name_en, OrderItem.price)
                           .join(last, last.c.id == OrderItem.id))
    return {sku: (zh, en, price) for sku, zh, en, price in rows}
