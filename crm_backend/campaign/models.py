"""Bot triggers Rasa did not take (a survey, a conversation handed back after a handoff), kept for retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime


class TriggerStatus:
    PENDING, SENT, ABANDONED = "pending", "sent", "abandoned"


class BotTrigger(Base):
    """One `trigger_intent` (optionally after resuming the conversation) still to deliver to Rasa."""

    __tablename__ = "bot_triggers"
    __table_args__ = (Index("ix_bot_triggers_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128))
    intent: Mapped[str] = mapped_column(String(64))
    entities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A handoff's return to the bot: resume the paused conversation before the trigger.
    resume_first: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=TriggerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
