"""Interaction queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.interaction.models import Interaction


def by_conversation(session: Session, conversation_id: str, *, lock: bool = False) -> Interaction | None:
    query = select(Interaction).where(Interaction.conversation_id == conversation_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def latest_conversations(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """Each customer's most recent conversation id; customers without one are absent."""
    latest: dict[int, str] = {}
    rows = session.execute(select(Interaction.customer_id, Interaction.conversation_id)
                           .where(Interaction.customer_id.in_(set(customer_ids)))
                           .order_by(Interaction.created_at, Interaction.id))
    for customer_id, conversation_id in rows:
        if customer_id is not None:
            latest[customer_id] = conversation_id  # later rows win
    return latest
