"""Customer queries."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer, Referral


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def by_phone(session: Session, phone: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.phone == phone)).first()


def search(session: Session, *, q: str | None, tier: str | None, limit: int, offset: int) -> tuple[list[Customer], int]:
    """Customers matching a name / phone / email fragment and tier, by id."""
    query = select(Customer)
    if q:
        # autoescape: a % or _ typed by the agent is matched literally, not as a LIKE wildcard.
        text, lowered = q.strip(), q.strip().lower()
        query = query.where(or_(func.lower(Customer.name_en).contains(lowered, autoescape=True),
                                Customer.name_zh.contains(text, autoescape=True),
                                Customer.phone.contains(lowered, autoescape=True),
                                func.lower(Customer.email).contains(lowered, autoescape=True)))
    if tier:
        query = query.where(Customer.tier == tier)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Customer.id).limit(limit).offset(offset))), total


def all_by_id(session: Session) -> list[Customer]:
    return list(session.scalars(select(Customer).order_by(Customer.id)))


def referral_of(session: Session, referred_id: int) -> Referral | None:
    return session.scalars(select(Referral).where(Referral.referred_id == referred_id)).first()


def referrals_by(session: Session, referrer_id: int, *, limit: int, offset: int) -> tuple[list[Referral], int]:
    """Referrals made by `referrer_id`, newest first, and their number."""
    query = select(Referral).where(Referral.referrer_id == referrer_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Referral.created_at.desc(), Referral.id.desc())
                                .limit(limit).offset(offset))), total
