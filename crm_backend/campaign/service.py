"""Trigger a bot survey in customers' conversations through Rasa's `trigger_intent`.

Rasa being down never fails the caller: the failure is logged, written to the audit log and
reported back. Conversations in an active handoff are skipped — the bot is paused there and a
human is talking to the customer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.handoff import service as handoff_service
from crm_backend.handoff.models import Handoff, HandoffStatus
from crm_backend.handoff.rasa import RasaClient, RasaUnavailable
from crm_backend.interaction.models import Interaction

log = logging.getLogger(__name__)

TICKET_RESOLVED_INTENT = "EXTERNAL_ticket_resolved"
NPS_INTENT = "EXTERNAL_nps_survey"
CONCURRENCY = 8  # parallel Rasa calls of one campaign
IN_HANDOFF = "in_handoff"
RASA_UNAVAILABLE = "rasa_unavailable"
NO_CONVERSATION = "no_conversation"


def paused_conversations(session: Session, *, conversation_ids: Sequence[str]) -> set[str]:
    """The conversations among these that are in an active (waiting or assigned) handoff."""
    if not conversation_ids:
        return set()
    rows = session.scalars(select(Handoff.conversation_id).where(
        Handoff.conversation_id.in_(set(conversation_ids)), Handoff.status.in_(HandoffStatus.ACTIVE)))
    return set(rows)


def latest_conversations(session: Session, *, customer_ids: Sequence[int]) -> dict[int, str]:
    """Each customer's most recent conversation id (from the interactions table); customers without one are absent."""
    latest: dict[int, str] = {}
    rows = session.execute(select(Interaction.customer_id, Interaction.conversation_id)
                           .where(Interaction.customer_id.in_(set(customer_ids)))
                           .order_by(Interaction.created_at, Interaction.id))
    for customer_id, conversation_id in rows:
        if customer_id is not None:
            latest[customer_id] = conversation_id  # later rows win
    return latest


async def send_all(session: Session, *, rasa: RasaClient, intent: str, conversation_ids: Sequence[str],
                   entities: dict[str, Any] | None = None) -> dict[str, str]:
    """Trigger `intent` in each conversation; returns {conversation_id: reason} for those not reached.

    Rasa is called with no transaction open; failures are then recorded in the audit log and committed.
    """
    unique = list(dict.fromkeys(conversation_ids))
    failed = {cid: IN_HANDOFF for cid in paused_conversations(session, conversation_ids=unique)}
    if session.in_transaction():
        session.commit()
    gate = asyncio.Semaphore(CONCURRENCY)
    errors: dict[str, str] = {}

    async def one(conversation_id: str) -> None:
        async with gate:
            try:
                await rasa.trigger_intent(conversation_id, intent, entities)
            except RasaUnavailable as error:
                log.warning("could not trigger %s in %s: %s", intent, conversation_id, error)
                errors[conversation_id] = str(error)[:300]

    await asyncio.gather(*(one(cid) for cid in unique if cid not in failed))
    for conversation_id, reason in failed.items():
        log.info("skipped %s in %s: %s", intent, conversation_id, reason)
    if errors:
        handoff_service.start_write(session)
        for conversation_id, error in errors.items():
            handoff_service.audit(session, agent=None, action="survey_trigger_failed",
                                  details={"intent": intent, "conversation_id": conversation_id,
                                           "entities": entities or {}, "error": error})
        session.commit()
    return {**failed, **{cid: RASA_UNAVAILABLE for cid in errors}}


async def ticket_resolved(session: Session, *, rasa: RasaClient, ticket_no: str, conversation_id: str) -> bool:
    """Ask the bot to tell the customer the ticket is resolved and ask the CSAT question; True when sent."""
    failed = await send_all(session, rasa=rasa, intent=TICKET_RESOLVED_INTENT, conversation_ids=[conversation_id],
                            entities={"ticket_no": ticket_no})
    return not failed
