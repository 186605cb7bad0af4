"""Figures of agent work for the dashboard: suggestions used per agent reply, handle time, and CSAT of
conversations an agent handled beside those the bot handled alone (from the conversation store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.conversation.models import Conversation
from crm_backend.copilot.models import SuggestionUse
from crm_backend.core.db import as_utc
from crm_backend.dashboard.kpi import average
from crm_backend.handoff.models import Handoff, HandoffMessage


def kpis(session: Session, *, lo: datetime, hi: datetime) -> dict[str, Any]:
    """The period `lo` … `hi` (UTC bounds of the dashboard's days)."""
    replies = session.scalar(select(func.count()).select_from(HandoffMessage).where(
        HandoffMessage.role == "agent", HandoffMessage.created_at >= lo, HandoffMessage.created_at < hi)) or 0
    used = session.scalar(select(func.count()).select_from(SuggestionUse).where(
        SuggestionUse.created_at >= lo, SuggestionUse.created_at < hi)) or 0
    handled = session.execute(select(Handoff.claimed_at, Handoff.resolved_at).where(
        Handoff.resolved_at >= lo, Handoff.resolved_at < hi, Handoff.claimed_at.is_not(None))).all()
    csat = session.execute(select(Conversation.has_handoff, func.avg(Conversation.csat), func.count()).where(
        Conversation.csat.is_not(None), Conversation.last_activity_at >= lo, Conversation.last_activity_at < hi)
        .group_by(Conversation.has_handoff)).all()
    by_kind = {bool(human): (round(float(avg), 2), int(n)) for human, avg, n in csat}
    return {
        "suggestion_uses": int(used), "agent_replies": int(replies),
        "suggestion_acceptance_rate": round(100 * used / replies, 1) if replies else None,
        "handle_time_seconds": average((as_utc(r) - as_utc(c)).total_seconds()  # type: ignore[operator]
                                       for c, r in handled),
        "csat_human": by_kind.get(True, (None, 0))[0], "csat_human_responses": by_kind.get(True, (None, 0))[1],
        "csat_bot": by_kind.get(False, (None, 0))[0], "csat_bot_responses": by_kind.get(False, (None, 0))[1],
    }
