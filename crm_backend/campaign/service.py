"""Trigger a bot survey in customers' conversations through Rasa's `trigger_intent`.

Rasa being down never fails the caller: the failure is logged, written to the audit log, reported
back, and the trigger is kept (`bot_triggers`) and retried by the handoff retry timer
(crm_backend/jobs.py) after 30 s, then twice the last wait (at most an hour), for 24 hours. Conversations in an active
handoff are skipped — the bot is paused there and a human is talking to the customer.

No transaction is open while Rasa is called: what the caller wrote so far is committed first (the
bot must not announce what is not stored), and database work runs in the threadpool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crm_backend.campaign import repository
from crm_backend.campaign.models import BotTrigger, TriggerStatus
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.events import HandoffAbandoned
from crm_backend.core.rasa import RasaClient, RasaUnavailable
from crm_backend.handoff.audit import audit
from crm_backend.interaction import repository as interactions

log = logging.getLogger(__name__)

TICKET_RESOLVED_INTENT = "EXTERNAL_ticket_resolved"
NPS_INTENT = "EXTERNAL_nps_survey"
CONCURRENCY = 8  # parallel Rasa calls of one campaign
IN_HANDOFF = "in_handoff"
RASA_UNAVAILABLE = "rasa_unavailable"
NO_CONVERSATION = "no_conversation"
RETRY_FIRST, RETRY_MAX, GIVE_UP_AFTER = timedelta(seconds=30), timedelta(hours=1), timedelta(hours=24)
CLAIM_FOR = timedelta(minutes=2)  # a retrying process owns a trigger this long (then another may try)


def latest_conversations(session: Session, *, customer_ids: Sequence[int]) -> dict[int, str]:
    """Each customer's most recent conversation id (from the interactions table); customers without one are absent."""
    return interactions.latest_conversations(session, customer_ids)


def _commit_read(session: Session) -> None:
    if session.in_transaction():
        session.commit()


async def send_all(session: Session, *, rasa: RasaClient, intent: str, conversation_ids: Sequence[str],
                   entities: dict[str, Any] | None = None) -> dict[str, str]:
    """Trigger `intent` in each conversation; returns {conversation_id: reason} for those not reached.

    Rasa is called with no transaction open; failures are then recorded in the audit log and committed.
    """
    unique = list(dict.fromkeys(conversation_ids))

    def paused() -> set[str]:
        found = repository.paused_conversations(session, unique)
        _commit_read(session)
        return found

    failed = {cid: IN_HANDOFF for cid in await run_in_threadpool(paused)}
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
        def record() -> None:
            begin_write(session)
            for conversation_id, error in errors.items():
                audit(session, agent=None, action="survey_trigger_failed",
                      details={"intent": intent, "conversation_id": conversation_id, "entities": entities or {},
                               "error": error})
                keep_for_retry(session, conversation_id=conversation_id, intent=intent, entities=entities,
                               error=error)
            session.commit()

        await run_in_threadpool(record)
    return {**failed, **{cid: RASA_UNAVAILABLE for cid in errors}}


async def ticket_resolved(session: Session, *, rasa: RasaClient, ticket_no: str, conversation_id: str) -> bool:
    """Ask the bot to tell the customer the ticket is resolved and ask the CSAT question; True when sent."""
    failed = await send_all(session, rasa=rasa, intent=TICKET_RESOLVED_INTENT, conversation_ids=[conversation_id],
                            entities={"ticket_no": ticket_no})
    return not failed


def keep_for_retry(session: Session, *, conversation_id: str, intent: str, entities: dict[str, Any] | None = None,
                   resume_first: bool = False, error: str = "") -> None:
    """Keep a trigger Rasa did not take (written with the caller's unit); `retry_due` sends it later."""
    now = utcnow()
    session.add(BotTrigger(conversation_id=conversation_id, intent=intent, entities=entities or {},
                           resume_first=resume_first, status=TriggerStatus.PENDING, attempts=1,
                           next_attempt_at=now + RETRY_FIRST, last_error=error[:300], created_at=now))


def on_handoff_abandoned(session: Session, event: HandoffAbandoned) -> None:
    """After-commit subscriber: the bot takes back a conversation whose waiting handoff was closed (resumed by
    the next retry round, and retried like any kept trigger while Rasa is down); otherwise the customer's next
    message would reach a paused bot and nobody."""
    begin_write(session)
    now = utcnow()
    session.add(BotTrigger(conversation_id=event.conversation_id, intent="", entities={}, resume_first=True,
                           status=TriggerStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now))


@dataclass
class RetryRound:
    sent: int = 0
    failed: int = 0
    abandoned: int = 0


async def retry_due(session: Session, *, rasa: RasaClient, now: datetime | None = None, limit: int = 50) -> RetryRound:
    """Send the kept triggers that are due; several CRM processes may run this at once.

    Each trigger is claimed first (an update conditional on its attempt count), so only one process
    sends it. No transaction is open while Rasa is called.
    """
    now = now or utcnow()

    def due() -> list[tuple[int, int]]:
        rows = repository.due_triggers(session, now=now, limit=limit)
        session.rollback()
        return rows

    result = RetryRound()
    for trigger_id, attempts in await run_in_threadpool(due):
        def claim(trigger_id: int = trigger_id, attempts: int = attempts) -> tuple[BotTrigger, bool] | None:
            begin_write(session)
            claimed = repository.claim_trigger(session, trigger_id=trigger_id, attempts=attempts,
                                               hold_until=now + CLAIM_FOR)
            session.commit()
            if not claimed:
                return None  # another process took it
            trigger = session.get(BotTrigger, trigger_id)
            assert trigger is not None
            paused = bool(repository.paused_conversations(session, [trigger.conversation_id]))
            session.commit()
            return trigger, paused

        taken = await run_in_threadpool(claim)
        if taken is None:
            continue
        trigger, paused = taken
        error = IN_HANDOFF if paused else None
        if not paused:
            try:
                if trigger.resume_first:
                    await rasa.resume(trigger.conversation_id)
                if trigger.intent:  # none: the bot only takes the conversation back
                    await rasa.trigger_intent(trigger.conversation_id, trigger.intent, trigger.entities or None)
            except RasaUnavailable as failure:
                error = str(failure)[:300]
        await run_in_threadpool(_record_attempt, session, trigger, error=error, paused=paused, now=now,
                                result=result)
    return result


def _record_attempt(session: Session, trigger: BotTrigger, *, error: str | None, paused: bool, now: datetime,
                    result: RetryRound) -> None:
    begin_write(session)
    if error is None:
        trigger.status, trigger.sent_at = TriggerStatus.SENT, now
        result.sent += 1
    elif paused or now - trigger.created_at >= GIVE_UP_AFTER:
        # A human is talking to the customer again, or a day has passed: a survey now would be out of place.
        trigger.status, trigger.last_error = TriggerStatus.ABANDONED, error
        audit(session, agent=None, action="bot_trigger_abandoned",
              details={"intent": trigger.intent, "conversation_id": trigger.conversation_id,
                       "attempts": trigger.attempts, "error": error})
        result.abandoned += 1
    else:
        wait = min(RETRY_FIRST * 2 ** (trigger.attempts - 1), RETRY_MAX)
        trigger.next_attempt_at, trigger.last_error = now + wait, error
        result.failed += 1
    session.commit()
