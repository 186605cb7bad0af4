"""Campaign queries: kept bot triggers and whether a conversation is with a human."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from crm_backend.campaign.models import BotTrigger, TriggerStatus
from crm_backend.handoff.models import Handoff, HandoffStatus


def paused_conversations(session: Session, conversation_ids: Sequence[str]) -> set[str]:
    """The conversations among these that are in an active (waiting or assigned) handoff."""
    if not conversation_ids:
        return set()
    return set(session.scalars(select(Handoff.conversation_id).where(
        Handoff.conversation_id.in_(set(conversation_ids)), Handoff.status.in_(HandoffStatus.ACTIVE))))


def due_triggers(session: Session, *, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(id, attempts) of pending triggers whose next attempt is due, oldest first."""
    rows = session.execute(select(BotTrigger.id, BotTrigger.attempts)
                           .where(BotTrigger.status == TriggerStatus.PENDING, BotTrigger.next_attempt_at <= now)
                           .order_by(BotTrigger.next_attempt_at).limit(limit)).all()
    return [(trigger_id, attempts) for trigger_id, attempts in rows]


def claim_trigger(session: Session, *, trigger_id: int, attempts: int, hold_until: datetime) -> bool:
    """Take the next attempt of a trigger if nobody else took it since `attempts` was read."""
    result = session.execute(
        update(BotTrigger)
        .where(BotTrigger.id == trigger_id, BotTrigger.attempts == attempts, BotTrigger.status == TriggerStatus.PENDING)
        .values(attempts=attempts + 1, next_attempt_at=hold_until))
    return isinstance(result, CursorResult) and result.rowcount == 1
