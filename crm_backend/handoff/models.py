"""Handoffs (escalations to a human), their messages, console audit log, settings and agent presence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class HandoffStatus:
    WAITING = "waiting"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"  # the customer went silent before an agent took the conversation
    ACTIVE = (WAITING, ASSIGNED)
    CLOSED = (RESOLVED, ABANDONED)


class Handoff(Base):
    """One escalation of a bot conversation to a human agent."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status_rank", "status", "priority_rank", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, default=2)
    value_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.WAITING)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    resolved_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    ticket_no: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    customer_last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A waiting customer who writes is told their place in the queue, at most every QUEUE_ACK_EVERY.
    queue_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Timestamp of the last Rasa tracker event already copied into handoff_messages.
    tracker_cursor: Mapped[float] = mapped_column(Float, default=0.0)


class HandoffMessage(Base):
    """A turn of a handed-off conversation: customer, bot, agent reply, internal note or system line."""

    __tablename__ = "handoff_messages"
    # Rasa's event timestamp makes copies from the tracker idempotent across CRM processes.
    __table_args__ = (UniqueConstraint("handoff_id", "role", "rasa_ts", name="uq_handoff_messages_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | bot | agent | note | system
    text: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rasa_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Agent replies only: delivered | pending (Rasa unreachable, will retry) | sending (an attempt is in
    # flight) | recorded (customer gone)
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the attempt in flight was taken: a process that died mid-send leaves `sending`, and the lease
    # lets the next retry round take the reply again.
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditLog(Base):
    """What an agent (or the system) did in the console."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(48))
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConsoleSetting(Base):
    """Supervisor-controlled console settings (JSON values by key)."""

    __tablename__ = "console_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AgentSession(Base):
    """A console login: the cookie carries the signed id; the row carries CSRF token and heartbeat."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ResponseBreach(Base):
    """A first- or next-response timer that ran out (once per timer: the unique key is its start)."""

    __tablename__ = "response_breaches"
    __table_args__ = (UniqueConstraint("handoff_id", "kind", "started_at", name="uq_response_breaches_timer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # first | next
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
