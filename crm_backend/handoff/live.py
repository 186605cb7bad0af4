"""The handoff's moving parts: publishing to consoles, delivering replies through Rasa, the poller.

The poller runs in every CRM process (started by the handoff routes' `install`). Each round it
copies new customer turns from Rasa trackers of open handoffs, retries undelivered agent replies,
puts conversations of vanished agents back in the queue and runs auto-assignment. Copies are
idempotent (unique Rasa timestamp), so several processes can poll the same handoffs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.campaign import service as campaign_service
from crm_backend.core.bus import get_bus
from crm_backend.core.config import get_settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.handoff import service, tickets
from crm_backend.handoff.models import Handoff, HandoffMessage, HandoffStatus
from crm_backend.handoff.rasa import RasaClient, RasaUnavailable
from kefu_ops.metrics import worker_round

log = logging.getLogger(__name__)
CHANNEL = "handoffs"
MAX_ATTEMPTS = 20


def rasa_client() -> RasaClient:
    settings = get_settings()
    return RasaClient(settings.rasa_url, settings.rasa_auth_token)


async def publish(kind: str, handoff_id: int | None = None, **extra: Any) -> None:
    """Tell every console (in every process) that something changed; consoles refetch what they show."""
    await get_bus().publish(CHANNEL, {"type": kind, "handoff_id": handoff_id, "at": service.now_utc().isoformat(),
                                      **extra})


async def deliver(session: Session, *, message: HandoffMessage, handoff: Handoff,
                  rasa: RasaClient | None = None) -> bool:
    """Send an agent reply to the customer through Rasa; on failure it stays `pending` for a retry.

    Call it with no write transaction open: the lock is held only to claim the attempt and to record it,
    never during the Rasa call. Returns True when the reply is (now or already) delivered.
    """
    rasa = rasa or rasa_client()
    service.start_write(session)
    mine = service.claim_attempt(session, message=message)
    session.commit()
    if not mine:
        return message.delivery == "delivered"
    try:
        await rasa.send_bot_message(handoff.conversation_id, message.text,
                                    metadata={"kefu_agent_id": message.agent_id, "kefu_message_id": message.id})
    except RasaUnavailable as error:
        service.start_write(session)
        gone = message.attempts >= MAX_ATTEMPTS
        service.mark_delivery(session, message=message, delivered=False, error=str(error), customer_gone=gone)
        if gone and handoff.ticket_no:
            tickets.record_reply(session, ticket_no=handoff.ticket_no, agent_id=message.agent_id, text=message.text)
        session.commit()
        log.warning("agent reply %s not delivered: %s", message.id, error)
        return False
    service.start_write(session)
    service.mark_delivery(session, message=message, delivered=True)
    session.commit()
    return True


async def sync_handoff(session: Session, *, handoff: Handoff, rasa: RasaClient) -> int:
    """Copy new tracker turns of one handoff; returns how many were new."""
    tracker = await rasa.tracker(handoff.conversation_id)
    service.start_write(session)
    new = service.sync_from_tracker(session, handoff=handoff, events=list(tracker.get("events") or []))
    session.commit()
    if new:
        await publish("message", handoff.id)
    return len(new)


async def poll_once(sessionmaker: Callable[[], Session] | None = None, rasa: RasaClient | None = None) -> None:
    """One round of the poller's duties."""
    rasa = rasa or rasa_client()
    with (sessionmaker or get_sessionmaker())() as session:
        retried = await campaign_service.retry_due(session, rasa=rasa)
        if retried.sent or retried.failed or retried.abandoned:
            log.info("kept bot triggers: %s sent, %s still failing, %s abandoned", retried.sent, retried.failed,
                     retried.abandoned)
        active = list(session.scalars(select(Handoff).where(Handoff.status.in_(HandoffStatus.ACTIVE))))
        for handoff in active:
            try:
                await sync_handoff(session, handoff=handoff, rasa=rasa)
            except RasaUnavailable as error:
                session.rollback()
                log.debug("tracker of %s unavailable: %s", handoff.conversation_id, error)
        pending = service.pending_messages(session, max_attempts=MAX_ATTEMPTS)
        if not active and not pending:
            session.rollback()
            return  # nothing open: no write lock taken (SQLite) on an idle system
        for message in pending:
            owner = session.get(Handoff, message.handoff_id)
            if owner is not None and await deliver(session, message=message, handoff=owner, rasa=rasa):
                await publish("delivery", owner.id)
        service.start_write(session)
        released = service.release_stale(session)
        assigned = service.auto_assign(session)
        session.commit()
        for handoff in released:
            await publish("released", handoff.id)
        for handoff in assigned:
            await publish("assigned", handoff.id, agent_id=handoff.assigned_agent_id)


async def run_poller(interval: float) -> None:
    while True:
        try:
            await poll_once()
            worker_round("handoff_poller", ok=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # the poller must survive a bad round (DB restart, bad data)
            worker_round("handoff_poller", ok=False)
            log.exception("handoff poller round failed")
        await asyncio.sleep(interval)


def poller_enabled() -> bool:
    """On unless KEFU_HANDOFF_POLLER=0; under pytest only with KEFU_HANDOFF_POLLER=1 (the test app has no Rasa)."""
    flag = os.environ.get("KEFU_HANDOFF_POLLER")
    if flag is not None:
        return flag == "1"
    return "pytest" not in sys.modules


def install(app: FastAPI) -> None:
    """Run the poller for the app's lifetime (disable with KEFU_HANDOFF_POLLER=0, e.g. in unit tests)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            task = None
            if poller_enabled():
                task = asyncio.create_task(run_poller(float(os.environ.get("KEFU_HANDOFF_POLL_SECONDS", "1.5"))))
            try:
                yield state
            finally:
                if task is not None:
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                await get_bus().close()
                from crm_backend.core.bus import set_bus

                set_bus(None)

    app.router.lifespan_context = lifespan
