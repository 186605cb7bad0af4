"""The handoff's moving parts: announcing changes to consoles, delivering replies through Rasa, one retry round.

Customer turns do not come from here: Rasa's event broker feeds them (`crm_backend.conversation`).
The retry round (run by the timer in `crm_backend/jobs.py`) retries undelivered agent replies, puts
conversations of vanished agents back in the queue and runs auto-assignment: a few indexed queries, no
Rasa call and no tracker read while nothing waits. A failed delivery wakes the timer at once (`wake`).

Work around a Rasa call is split into short write units on the caller's session (`_step`), each
committed before the network call: a SQLite write lock is never held while Rasa answers. Database
work runs in the threadpool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crm_backend.core import events
from crm_backend.core.bus import get_bus
from crm_backend.core.db import begin_write, committed, utcnow
from crm_backend.core.rasa import RasaClient, RasaUnavailable, rasa_client
from crm_backend.handoff import assignment, conversation, repository, service, tickets, timers
from crm_backend.handoff.models import Handoff, HandoffMessage, ResponseBreach
from crm_backend.handoff.settings import console_settings

log = logging.getLogger(__name__)
CHANNEL = "handoffs"
MAX_ATTEMPTS = 20
T = TypeVar("T")


async def publish(kind: str, handoff_id: int | None = None, **extra: Any) -> None:
    """Tell every console (in every process) that something changed; consoles refetch what they show."""
    await get_bus().publish(CHANNEL, {"type": kind, "handoff_id": handoff_id, "at": utcnow().isoformat(), **extra})


def announce(session: Session, kind: str, handoff_id: int | None = None, **extra: Any) -> None:
    """`publish` once the session's unit has committed (consoles refetch committed state)."""
    events.notify(session, lambda: publish(kind, handoff_id, **extra))


def _step(session: Session, work: Callable[[], T]) -> T:
    """Run `work` as one committed write unit on `session` (what came before it is committed first), then
    deliver its after-commit events."""
    begin_write(session)
    with committed(session):
        return work()


async def deliver(session: Session, *, message: HandoffMessage, handoff: Handoff,
                  rasa: RasaClient | None = None) -> bool:
    """Send an agent reply to the customer through Rasa; on failure it stays `pending` for a retry.

    The lock is held only to claim the attempt and to record it, never during the Rasa call.
    Returns True when the reply is (now or already) delivered.
    """
    rasa = rasa or rasa_client()
    mine = await run_in_threadpool(_step, session, lambda: conversation.claim_attempt(session, message=message))
    if not mine:
        return message.delivery == "delivered"
    try:
        await rasa.send_bot_message(handoff.conversation_id, message.text,
                                    metadata={"kefu_agent_id": message.agent_id, "kefu_message_id": message.id})
    except RasaUnavailable as failure:
        error = str(failure)

        def failed() -> None:
            gone = message.attempts >= MAX_ATTEMPTS
            conversation.mark_delivery(session, message=message, delivered=False, error=error,
                                       customer_gone=gone)
            if gone and handoff.ticket_no:
                tickets.record_reply(session, ticket_no=handoff.ticket_no, agent_id=message.agent_id,
                                     text=message.text)

        await run_in_threadpool(_step, session, failed)
        log.warning("agent reply %s not delivered: %s", message.id, error)
        wake()
        return False
    await run_in_threadpool(_step, session,
                            lambda: conversation.mark_delivery(session, message=message, delivered=True))
    return True


_wake: asyncio.Event | None = None


def wake() -> None:
    """Something now waits for a retry (a reply not delivered): run the timer's next round soon."""
    if _wake is not None:
        _wake.set()


def wake_event() -> asyncio.Event:
    """The event the timer of this process waits on (created in the timer's event loop)."""
    global _wake
    _wake = asyncio.Event()
    return _wake


ABANDONED_TEXT = {
    "zh": "我们有一段时间没有收到您的消息，本次人工排队已结束。如还需要帮助，直接给我发消息就好。",
    "en": "We haven't heard from you for a while, so this request for an agent has been closed. "
          "If you still need help, just send me a message.",
}
TICKET_KEPT_TEXT = {"zh": "您的工单 {ticket_no} 仍会有人跟进。",
                    "en": "Your ticket {ticket_no} will still be followed up."}


async def say_goodbye(handoff: Handoff, rasa: RasaClient) -> None:
    """Tell a customer who may still be there that the queue gave up, in their language (a courtesy: a
    failure is logged; the bot's return itself is a kept trigger that is retried)."""
    text = ABANDONED_TEXT[handoff.language]
    if handoff.ticket_no:
        text += (" " if handoff.language == "en" else "") + TICKET_KEPT_TEXT[handoff.language].format(
            ticket_no=handoff.ticket_no)
    try:
        await rasa.send_bot_message(handoff.conversation_id, text, metadata={"kefu_handoff_abandoned": handoff.id})
    except RasaUnavailable as failure:
        log.warning("could not tell %s that the queue was closed: %s", handoff.conversation_id, failure)


QUEUE_ACK_TEXT = {
    "zh": ("收到，客服接入后会看到您的消息。您前面还有 {ahead} 位，预计约 {minutes} 分钟。",
           "收到，客服接入后会看到您的消息。下一位就是您，预计约 {minutes} 分钟。"),
    "en": ("Got it: the agent will see your messages when they pick up. {ahead} ahead of you, about {minutes} min.",
           "Got it: the agent will see your messages when they pick up. You're next, about {minutes} min."),
}


async def acknowledge(session: Session, handoff_id: int, rasa: RasaClient | None = None) -> bool:
    """A waiting customer wrote again: tell them (at most every `service.QUEUE_ACK_EVERY`) that it reached the
    queue and where they stand; the paused bot says nothing otherwise. True when a message went out. The
    caller owns and closes the session.

    A cheap read decides first, so the turns of conversations that are not due take no write lock.
    """
    def claim() -> service.QueuePlace | None:
        handoff = session.get(Handoff, handoff_id)
        due = handoff is not None and service.queue_ack_due(handoff, now=utcnow())
        session.rollback()
        return _step(session, lambda: service.acknowledge_waiting(session, handoff_id=handoff_id)) if due else None

    place = await run_in_threadpool(claim)
    if place is None:
        return False
    some_ahead, next_up = QUEUE_ACK_TEXT[place.handoff.language]
    text = (some_ahead if place.ahead else next_up).format(ahead=place.ahead, minutes=place.minutes)
    try:
        await (rasa or rasa_client()).send_bot_message(place.handoff.conversation_id, text,
                                                       metadata={"kefu_queue_ack": handoff_id})
    except RasaUnavailable as failure:  # a courtesy: the message itself is in the queue either way
        log.warning("could not acknowledge %s in the queue: %s", place.handoff.conversation_id, failure)
        return False
    return True


async def retry_once(session: Session, rasa: RasaClient) -> bool:
    """One round of the handoff duties (the caller owns and closes the session).

    Returns True while an undelivered reply still waits for a retry (the timer then comes back soon).
    """
    pending = await run_in_threadpool(conversation.pending_messages, session, max_attempts=MAX_ATTEMPTS)
    for message in pending:
        owner = await run_in_threadpool(session.get, Handoff, message.handoff_id)
        if owner is not None and await deliver(session, message=message, handoff=owner, rasa=rasa):
            await publish("delivery", owner.id)
    if not await run_in_threadpool(repository.any_active, session):
        await run_in_threadpool(session.rollback)
        return bool(pending)  # nothing open: no write lock taken (SQLite) on an idle system

    def upkeep() -> tuple[list[Handoff], list[Handoff], list[ResponseBreach], list[Handoff]]:
        settings = console_settings(session)
        released = assignment.release_stale(session)
        abandoned = assignment.close_abandoned(session, limits=settings["abandon_after_minutes"])
        return (released, assignment.auto_assign(session),
                timers.record_breaches(session, settings["response_targets"]), abandoned)

    # The step's after-commit events make the bot take the abandoned conversations back.
    released, assigned, breaches, abandoned = await run_in_threadpool(_step, session, upkeep)
    for handoff in abandoned:
        await say_goodbye(handoff, rasa)
        await publish("abandoned", handoff.id)
    for handoff in released:
        await publish("released", handoff.id)
    for handoff in assigned:
        await publish("assigned", handoff.id, agent_id=handoff.assigned_agent_id)
    for breach in breaches:
        await publish("breach", breach.handoff_id, timer=breach.kind)
    still = await run_in_threadpool(conversation.pending_messages, session, max_attempts=MAX_ATTEMPTS)
    await run_in_threadpool(session.rollback)
    return bool(still)
