"""Points ledger (append-only entries + one account row per customer), rewards and redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import crm_backend.customer.models
import crm_backend.order.models  # noqa: F401  (foreign-key target must be in the metadata)
from crm_backend.core.db import Base, UTCDateTime, utcnow

ENTRY_KINDS = ("earn", "redeem", "expire", "adjust", "reverse")


class PointsAccount(Base):
    """The balance row; writers lock it (FOR UPDATE / BEGIN IMMEDIATE) so the ledger stays serial."""

    __tablename__ = "points_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_earned: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsEntry(Base):
    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_points_entries_customer_key"),
        CheckConstraint("kind IN ('earn','redeem','expire','adjust','reverse')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(Integer)  # signed: credits > 0, debits < 0
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # credits only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Reward(Base):
    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    cost_points: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)  # None = unlimited
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Redemption(Base):
    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    points_spent: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="completed")
    points_entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
