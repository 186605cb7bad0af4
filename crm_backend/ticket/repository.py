"""Ticket queries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.ticket.models import Ticket


def by_no(session: Session, ticket_no: str, *, lock: bool = False) -> Ticket | None:
    query = select(Ticket).where(Ticket.ticket_no == ticket_no)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def for_customer(session: Session, customer_id: int, *, status: str | None, limit: int, offset: int
                 ) -> tuple[list[Ticket], int]:
    query = select(Ticket).where(Ticket.customer_id == customer_id)
    if status:
        query = query.where(Ticket.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def open_for_customer(session: Session, customer_id: int) -> list[Ticket]:
    """The customer's tickets that are not resolved or closed, newest first."""
    return list(session.scalars(select(Ticket).where(Ticket.customer_id == customer_id,
                                                     Ticket.status.not_in(("resolved", "closed")))
                                .order_by(Ticket.created_at.desc())))
