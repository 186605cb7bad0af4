"""Referrals: who brought whom; the referrer is rewarded on the referred customer's first order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.core.errors import ConflictError, ValidationFailed
from crm_backend.customer import repository as customers
from crm_backend.customer.models import Customer, Referral
from crm_backend.customer.service import get_customer
from crm_backend.order import repository as orders
from crm_backend.points import service as points


def register(session: Session, *, referrer_id: int, referred_id: int, now: datetime | None = None) -> Referral:
    """Record that `referrer_id` referred `referred_id` (before the referred customer's first order)."""
    if referrer_id == referred_id:
        raise ValidationFailed("A customer cannot refer themselves", "不能推荐自己")
    get_customer(session, customer_id=referrer_id)
    referred = get_customer(session, customer_id=referred_id)
    if referred.referred_by is not None:
        raise ConflictError(f"Customer {referred_id} already has a referrer", f"客户 {referred_id} 已有推荐人")
    if orders.count_for_customer(session, referred_id):
        raise ConflictError("Referrals must be recorded before the first order", "推荐关系须在首次下单前登记")
    now = now or utcnow()
    referred.referred_by = referrer_id
    referral = Referral(referrer_id=referrer_id, referred_id=referred_id, points_awarded=0, created_at=now)
    session.add(referral)
    session.flush()
    return referral


def list_for(session: Session, *, referrer_id: int, limit: int, offset: int) -> tuple[list[Referral], int]:
    get_customer(session, customer_id=referrer_id)
    return customers.referrals_by(session, referrer_id, limit=limit, offset=offset)


def reward_referrer(session: Session, *, customer: Customer, now: datetime) -> None:
    """On the referred customer's first order: the referrer's points, once."""
    if customer.referred_by is None:
        return
    referral = customers.referral_of(session, customer.id)
    if referral is None:
        referral = Referral(referrer_id=customer.referred_by, referred_id=customer.id, created_at=now)
        session.add(referral)
    if referral.rewarded_at is not None:
        return
    entry = points.award_referral(session, referrer_id=customer.referred_by, referred_id=customer.id, now=now)
    referral.points_awarded = entry.points
    referral.rewarded_at = now
