"""Model versions (every model Rasa ever served or could serve) and the deployments that chose one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow

# A version's life: queued → training → evaluating → ready (or failed / cancelled). A repo model (trained by
# `./kefu run` from data/) is registered ready.
QUEUED, TRAINING, EVALUATING, READY, FAILED, CANCELLED = (
    "queued", "training", "evaluating", "ready", "failed", "cancelled")
ACTIVE_STATES = (QUEUED, TRAINING, EVALUATING)


class ModelVersion(Base):
    """One Rasa model: where its archive is, how it was made, what the gate said of it."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # repo | candidate
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(200), default="")  # what the training worker is doing
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0–1
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)  # repo: the data fingerprint
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    annotations: Mapped[int] = mapped_column(Integer, default=0)  # annotations trained on
    heldout_annotations: Mapped[int] = mapped_column(Integer, default=0)
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), nullable=True)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # before/after figures
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # {"passed": bool, "reasons": []}
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    train_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


class ModelDeployment(Base):
    """A version made the serving one: promoted (through the gate or over it) or rolled back to.

    The newest row is what every Rasa instance serves; the rows before it are the history.
    """

    __tablename__ = "model_deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # repo | promote | override | rollback
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
