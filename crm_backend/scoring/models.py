"""Stored scores per customer (recomputed on events; see crm_backend.scoring.service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow


class CustomerScore(Base):
    __tablename__ = "customer_scores"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    r: Mapped[int] = mapped_column(Integer)
    f: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)
    clv: Mapped[float] = mapped_column(Float)
    current_value: Mapped[float] = mapped_column(Float)
    potential_value: Mapped[float] = mapped_column(Float)
    value_segment: Mapped[str] = mapped_column(String(16), index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), index=True)
    satisfaction: Mapped[float] = mapped_column(Float)
    churn_risk: Mapped[float] = mapped_column(Float, index=True)
    churn_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, weight, en, zh}]
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
