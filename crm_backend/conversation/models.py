"""Conversations and their events as published by Rasa's event broker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime


class Outcome:
    OPEN = "open"  # nothing decided yet (no customer turn answered)
    BOT = "bot"  # the bot answered the last customer turn and no human took over
    HANDOFF = "handoff"
    ABANDONED = "abandoned"  # the customer's last turn ended in a fallback
    ALL = (OPEN, BOT, HANDOFF, ABANDONED)


class Conversation(Base):
    """One Rasa conversation (sender id), with the figures the dashboard counts."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.OPEN, index=True)
    has_handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_turns: Mapped[int] = mapped_column(Integer, default=0)
    fallback_turns: Mapped[int] = mapped_column(Integer, default=0)
    # Timestamp of the newest user turn and whether it fell back: events may arrive out of order
    # (competing consumers), so the outcome follows the newest turn, not the last one processed.
    last_user_ts: Mapped[float] = mapped_column(Float, default=0.0)
    last_user_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    last_bot_ts: Mapped[float] = mapped_column(Float, default=0.0)


class ConversationEvent(Base):
    """One tracker event; `event_key` (a hash of the whole event) makes a redelivery a no-op."""

    __tablename__ = "conversation_events"
    __table_args__ = (Index("ix_conversation_events_conversation_ts", "conversation_id", "rasa_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    rasa_ts: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # redacted
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)  # action, slot, form or intent name
    intent: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    entities: Mapped[Any] = mapped_column(JSON, nullable=True)
    # slot: its value (redacted when text); user: the top 3 intents [{name, confidence}]
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class StreamCursor(Base):
    """How far a pull source (Rasa's SQL event broker file) has been stored."""

    __tablename__ = "stream_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
