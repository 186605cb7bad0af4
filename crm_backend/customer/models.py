"""Customers and referrals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow

TIERS = ("regular", "silver", "gold", "diamond")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str | None] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_language: Mapped[str] = mapped_column(String(2), default="zh")
    birthday: Mapped[date | None] = mapped_column(Date)
    consent_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def display_name(self) -> str:
        first, second = (self.name_zh, self.name_en) if self.preferred_language == "zh" else (self.name_en,
                                                                                             self.name_zh)
        return first or second or f"#{self.id}"


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    referred_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    points_awarded: Mapped[int] = mapped_column(Integer, default=0)
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
