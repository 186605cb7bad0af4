"""Order queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.order.models import Order, OrderItem

COUNTED_STATUSES = ("paid", "shipped", "delivered")  # what counts as spend (not cancelled or refunded)


def by_no(session: Session, order_no: str, *, customer_id: int | None = None) -> Order | None:
    query = select(Order).where(Order.order_no == order_no.strip().upper())
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    return session.scalars(query).first()


def count_for_customer(session: Session, customer_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0)


def for_customer(session: Session, customer_id: int, *, status: str | None, limit: int, offset: int
                 ) -> tuple[list[tuple[Order, int]], int]:
    """(order, item count) newest first, and the total."""
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


def spend_since(session: Session, customer_id: int, since: datetime) -> Decimal:
    """Spend of counted orders placed after `since`."""
    value = session.scalar(select(func.coalesce(func.sum(Order.total), 0)).where(
        Order.customer_id == customer_id, Order.placed_at > since, Order.status.in_(COUNTED_STATUSES)))
    return Decimal(str(value or 0))


def recent(session: Session, customer_id: int, *, limit: int) -> list[Order]:
    return list(session.scalars(select(Order).where(Order.customer_id == customer_id)
                                .order_by(Order.placed_at.desc()).limit(limit)))
