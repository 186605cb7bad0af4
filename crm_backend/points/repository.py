"""Ledger queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward


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


def earned_for_order(session: Session, order_id: int) -> int:
    """Points an order earned."""
    return int(session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.order_id == order_id, PointsEntry.kind == "earn")) or 0)


def customers_with_expired_credits(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(PointsEntry.customer_id).where(
        PointsEntry.points > 0, PointsEntry.expires_at <= now).distinct()))


def entries(session: Session, customer_id: int, *, kind: str | None, limit: int, offset: int
            ) -> tuple[list[PointsEntry], int]:
    """The customer's ledger, newest first, and its size."""
    query = select(PointsEntry).where(PointsEntry.customer_id == customer_id)
    if kind:
        query = query.where(PointsEntry.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), total


def active_rewards(session: Session, *, limit: int, offset: int) -> tuple[list[Reward], int]:
    query = select(Reward).where(Reward.active.is_(True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Reward.cost_points, Reward.code).limit(limit).offset(offset))), total


def redemption_by_entry(session: Session, entry_id: int) -> Redemption | None:
    return session.scalars(select(Redemption).where(Redemption.points_entry_id == entry_id)).first()
