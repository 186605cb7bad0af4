"""Which copilot suggestions agents took, so that ranking learns from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow


class SuggestionUse(Base):
    """One suggested reply an agent inserted into the reply box (`edited` once the sent text differs)."""

    __tablename__ = "copilot_suggestion_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # canned | knowledge | history
    key: Mapped[str] = mapped_column(String(64), index=True)  # canned code, article id, or agent message id
    language: Mapped[str] = mapped_column(String(8))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
