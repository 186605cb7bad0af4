"""Upsert the one summary row of a conversation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core import events
from crm_backend.core.db import begin_write, utcnow
from crm_backend.customer import service as customer_service
from crm_backend.interaction import repository
from crm_backend.interaction.models import Interaction
from crm_backend.interaction.schemas import InteractionUpsert


def upsert_interaction(session: Session, *, data: InteractionUpsert) -> tuple[int, bool]:
    """Create or update the row for ``data.conversation_id``; returns (id, created).

    A later summary of the same conversation replaces the earlier one, except that the customer,
    once known, is kept and ``escalated`` never goes back to false.
    """
    begin_write(session)
    if data.customer_id is not None:
        customer_service.get_customer(session, customer_id=data.customer_id)
    now = utcnow()
    row = repository.by_conversation(session, data.conversation_id, lock=True)
    created = row is None
    if row is None:
        row = _apply(Interaction(conversation_id=data.conversation_id, created_at=now), data, now)
        try:
            # Two first summaries of one conversation may race; the loser updates the winner's row.
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = repository.by_conversation(session, data.conversation_id, lock=True)
            created = False
            if row is None:
                raise
    if not created:
        _apply(row, data, now)
    session.flush()
    if row.customer_id is not None:
        events.emit(session, events.CustomerChanged(row.customer_id))
    return row.id, created


def _apply(row: Interaction, data: InteractionUpsert, now: datetime) -> Interaction:
    row.channel = data.channel
    row.customer_id = data.customer_id if data.customer_id is not None else row.customer_id
    row.intents = list(data.intents)
    row.sentiment = data.sentiment
    row.escalated = bool(row.escalated) or data.escalated
    row.resolved_by_bot = data.resolved_by_bot
    row.updated_at = now
    return row
