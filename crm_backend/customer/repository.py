"""Customer queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def by_phone(session: Session, phone: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.phone == phone)).first()
