"""The conversation under a handoff: agent replies and their delivery state, notes, tickets, tracker copies
and resolution. Delivery through Rasa itself is in `live.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import as_utc, utcnow
from crm_backend.handoff import errors, repository
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import Handoff, HandoffMessage, HandoffStatus
from crm_backend.handoff.redact import redact
from crm_backend.handoff.service import get_visible
from crm_backend.handoff.settings import is_supervisor

# Longer than any Rasa call (5 s timeout) with room to spare, short enough for a retry within a minute.
SENDING_LEASE = timedelta(seconds=30)


def require_holder(handoff: Handoff, agent: Agent) -> None:
    """Only the agent holding an open conversation (or a supervisor) may act in it."""
    if handoff.status in HandoffStatus.CLOSED:
        raise errors.AlreadyResolved(handoff.id)
    if handoff.assigned_agent_id != agent.id and not is_supervisor(agent):
        raise errors.NotAssigned(handoff.id)


def add_reply(session: Session, *, handoff_id: int, agent: Agent, text: str) -> HandoffMessage:
    """Record an agent reply as `pending`; `live.deliver` sends it through Rasa and marks the result."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    require_holder(handoff, agent)
    now = utcnow()
    message = HandoffMessage(handoff_id=handoff_id, role="agent", text=text, agent_id=agent.id, created_at=now,
                             delivery="pending", attempts=0)
    session.add(message)
    if handoff.first_response_at is None:
        handoff.first_response_at = now
    audit(session, agent=agent, action="reply", handoff_id=handoff_id, details={"chars": len(text)})
    session.flush()
    return message


def claim_attempt(session: Session, *, message: HandoffMessage) -> bool:
    """Take the next delivery attempt of a pending reply; False when another request/process took it.

    The reply is `sending` while the attempt is in flight: without that, the Retry button and the retry
    timer (or two CRM processes) could both send it when Rasa comes back, and the customer would read it
    twice. A lease longer than any Rasa call frees a reply whose sender died mid-attempt.
    """
    now = utcnow()
    mine = repository.take_attempt(session, message_id=message.id, seen_attempts=message.attempts, now=now,
                                   lease_expired_before=now - SENDING_LEASE)
    session.refresh(message)
    return mine


def mark_delivery(session: Session, *, message: HandoffMessage, delivered: bool, error: str | None = None,
                  customer_gone: bool = False) -> None:
    """Record the outcome of the delivery attempt taken with `claim_attempt`."""
    message.sending_since = None
    if delivered:
        message.delivery, message.last_error = "delivered", None
    else:
        message.delivery = "recorded" if customer_gone else "pending"
        message.last_error = (error or "")[:500]
    session.flush()


def pending_messages(session: Session, *, handoff_id: int | None = None,
                     max_attempts: int = 20) -> list[HandoffMessage]:
    return repository.pending_messages(session, handoff_id=handoff_id, max_attempts=max_attempts,
                                       lease_expired_before=utcnow() - SENDING_LEASE)


def add_note(session: Session, *, handoff_id: int, agent: Agent, text: str) -> HandoffMessage:
    """An internal note: visible to agents only, never sent to the customer."""
    get_visible(session, handoff_id=handoff_id, agent=agent)
    note = HandoffMessage(handoff_id=handoff_id, role="note", text=text, agent_id=agent.id, created_at=utcnow())
    session.add(note)
    audit(session, agent=agent, action="note", handoff_id=handoff_id)
    session.flush()
    return note


def link_ticket(session: Session, *, handoff: Handoff, agent: Agent, ticket_no: str) -> Handoff:
    handoff.ticket_no = ticket_no
    audit(session, agent=agent, action="ticket_link", handoff_id=handoff.id, details={"ticket_no": ticket_no})
    session.flush()
    return handoff


def sync_from_tracker(session: Session, *, handoff: Handoff, events: list[dict[str, Any]]) -> list[HandoffMessage]:
    """Copy the customer's (and bot's) turns after the escalation into the handoff's messages.

    Idempotent through the unique (handoff, role, Rasa timestamp): the event stream may deliver an event
    twice or out of order (competing consumers), so there is no cursor to skip by.
    """
    created: list[HandoffMessage] = []
    start = (as_utc(handoff.created_at) or utcnow()).timestamp()
    for event in events:
        kind, text = event.get("event"), event.get("text")
        ts = float(event.get("timestamp") or 0.0)
        if kind not in ("user", "bot") or not text or ts <= start:
            continue
        if kind == "bot" and (event.get("metadata") or {}).get("kefu_agent_id") is not None:
            continue  # our own agent reply, already stored
        message = HandoffMessage(handoff_id=handoff.id, role=kind, text=redact(str(text))[:4000], rasa_ts=ts,
                                 created_at=datetime.fromtimestamp(ts, UTC))
        try:
            with session.begin_nested():
                session.add(message)
                session.flush()
        except IntegrityError:
            continue  # already stored
        created.append(message)
        if kind == "user" and (as_utc(handoff.customer_last_seen_at) or message.created_at) <= message.created_at:
            handoff.customer_last_seen_at = message.created_at
    session.flush()
    return created


def resolve(session: Session, *, handoff_id: int, agent: Agent) -> bool:
    """Mark the conversation resolved; True only for the request that actually resolved it."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    if handoff.status not in HandoffStatus.CLOSED:
        require_holder(handoff, agent)
    now = utcnow()
    if not repository.mark_resolved(session, handoff_id=handoff_id, agent_id=agent.id, now=now):
        return False
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff_id, role="system", text="resolved", agent_id=agent.id,
                               created_at=now))
    audit(session, agent=agent, action="resolve", handoff_id=handoff_id)
    session.flush()
    return True
