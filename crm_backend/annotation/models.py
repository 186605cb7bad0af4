"""A supervisor's decision on what one customer message meant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow

OUT_OF_SCOPE = "out_of_scope"


class Annotation(Base):
    """The intent a supervisor gave a message (one row per language and normalised text: the last one wins)."""

    __tablename__ = "nlu_annotations"
    __table_args__ = (UniqueConstraint("language", "text_key", name="uq_nlu_annotations_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    text_key: Mapped[str] = mapped_column(String(64))  # sha1 of the normalised text
    text: Mapped[str] = mapped_column(Text)  # as the customer wrote it, redacted
    intent: Mapped[str] = mapped_column(String(128), index=True)  # an intent of the domain, or out_of_scope
    predicted: Mapped[str | None] = mapped_column(String(128), nullable=True)  # what the model said
    decision: Mapped[str] = mapped_column(String(16))  # confirmed | changed | out_of_scope
    annotated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    annotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Correction(Base):
    """An agent's flag on a customer message of a handoff: the bot misunderstood it (one per message)."""

    __tablename__ = "nlu_corrections"
    __table_args__ = (UniqueConstraint("message_id", name="uq_nlu_corrections_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("handoff_messages.id", ondelete="CASCADE"))
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    text_key: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)  # redacted
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
