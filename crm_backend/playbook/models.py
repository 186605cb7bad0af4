"""Playbooks, their runs, one delivery row per (playbook, occurrence, customer), and messaging preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import crm_backend.customer.models  # noqa: F401  (foreign-key target must be in the metadata)
from crm_backend.core.db import Base, UTCDateTime, utcnow


class DeliveryStatus:
    PENDING, SENDING, SENT, WAITING_VISIT, SKIPPED, FAILED, HOLDOUT = (
        "pending", "sending", "sent", "waiting_visit", "skipped", "failed", "holdout")
    DONE = ("sent", "waiting_visit", "skipped", "failed", "holdout")


class Playbook(Base):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(16), default="marketing")  # marketing | service
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    template_zh: Mapped[str] = mapped_column(Text)
    template_en: Mapped[str] = mapped_column(Text)
    offer_kind: Mapped[str] = mapped_column(String(16), default="none")  # none | points | coupon
    offer_points: Mapped[int] = mapped_column(Integer, default=0)
    coupon_value: Mapped[int] = mapped_column(Integer, default=0)  # CNY
    schedule: Mapped[str] = mapped_column(String(16), default="once")  # once | daily | event
    event: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"type": "order_delivered", "days": 7}
    holdout_pct: Mapped[float] = mapped_column(Float, default=0.10)
    window_days: Mapped[int] = mapped_column(Integer, default=14)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlaybookRun(Base):
    __tablename__ = "playbook_runs"
    __table_args__ = (UniqueConstraint("playbook_id", "occurrence", name="uq_playbook_runs_playbook_occurrence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id", ondelete="CASCADE"), index=True)
    occurrence: Mapped[str] = mapped_column(String(32))  # "once", a date, …
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    treated: Mapped[int] = mapped_column(Integer, default=0)
    holdout: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """One recipient of one run: treated (a message to send) or holdout (nothing sent, measured)."""

    __tablename__ = "playbook_deliveries"
    __table_args__ = (
        UniqueConstraint("playbook_id", "customer_id", "occurrence_key", name="uq_playbook_deliveries_once"),
        Index("ix_playbook_deliveries_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_runs.id", ondelete="CASCADE"))
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    occurrence_key: Mapped[str] = mapped_column(String(64))  # the run's occurrence, or "order:<id>" for events
    treated: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # template values beyond the customer's
    offer_points: Mapped[int] = mapped_column(Integer, default=0)
    coupon_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # widget: shown on the next visit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessagingPreference(Base):
    """Per customer: marketing and service switches (opt-out wins), the frequency-cap clock, local time zone."""

    __tablename__ = "messaging_preferences"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    marketing_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    service_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opt_out_channel: Mapped[str] = mapped_column(String(16), default="")
    last_marketing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
