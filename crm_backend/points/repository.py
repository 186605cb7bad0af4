"""Ledger queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.points.models import PointsAccount, PointsEntry, Reward


def account(session: Session, customer_id: int, *, lock: bool = False) -> PointsAccount | None:
    query = select(PointsAccount).where(PointsAccount.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def total_debits(session: Session, customer_id: int) -> int:
    """Points ever taken out (redeem, expire, negative adjust/reverse), as a positive number."""
    return -(session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.customer_id == customer_id, PointsEntry.points < 0)) or 0)


def credits_expiring_by(session: Session, customer_id: int, until: datetime) -> list[tuple[datetime, int]]:
    """(expires_at, points) of credits that expire at or before `until`, oldest first."""
    rows = session.execute(
        select(PointsEntry.expires_at, PointsEntry.points)
        .where(PointsEntry.customer_id == customer_id, PointsEntry.points > 0, PointsEntry.expires_at.is_not(None),
               PointsEntry.expires_at <= until)
        .order_by(PointsEntry.expires_at, PointsEntry.id)
    ).all()
    return [(at, points) for at, points in rows if at is not None]


def entry_by_key(session: Session, customer_id: int, key: str) -> PointsEntry | None:
    return session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer_id,
                                                     PointsEntry.idempotency_key == key)).first()


def reward_by_code(session: Session, code: str, *, lock: bool = False) -> Reward | None:
    query = select(Reward).where(Reward.code == code)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()
