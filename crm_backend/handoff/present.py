"""Turn handoff rows into API bodies (names joined in bulk, waiting time computed)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import as_utc, utcnow
from crm_backend.customer.models import Customer
from crm_backend.handoff import repository, timers
from crm_backend.handoff.models import Handoff, HandoffMessage
from crm_backend.handoff.schemas import HandoffOut, MessageOut, TimerOut
from crm_backend.handoff.settings import console_settings


def handoffs(session: Session, rows: Sequence[Handoff]) -> list[HandoffOut]:
    """API bodies of several handoffs."""
    customers = repository.display_names(session, Customer, {h.customer_id for h in rows
                                                             if h.customer_id is not None})
    agents = repository.display_names(session, Agent, {h.assigned_agent_id for h in rows
                                                       if h.assigned_agent_id is not None})
    last = {handoff_id: text[:120] for handoff_id, text in
            repository.last_customer_turns(session, [h.id for h in rows]).items()}
    running = timers.for_handoffs(session, rows, console_settings(session)["response_targets"])
    now = utcnow()
    out = []
    for h in rows:
        timer = running.get(h.id)
        created = as_utc(h.created_at) or now
        end = as_utc(h.claimed_at) or as_utc(h.resolved_at) or now
        out.append(HandoffOut(
            id=h.id, conversation_id=h.conversation_id, channel=h.channel, customer_id=h.customer_id,
            customer_name=customers.get(h.customer_id) if h.customer_id is not None else None, language=h.language,
            reason=h.reason, reason_code=h.reason_code, priority=h.priority, value_customer=h.value_customer,
            status=h.status, assigned_agent_id=h.assigned_agent_id,
            assigned_agent_name=agents.get(h.assigned_agent_id) if h.assigned_agent_id is not None else None,
            ticket_no=h.ticket_no, created_at=created, claimed_at=as_utc(h.claimed_at),
            first_response_at=as_utc(h.first_response_at), resolved_at=as_utc(h.resolved_at),
            waiting_seconds=max(0, int((end - created).total_seconds())),
            customer_last_seen_at=as_utc(h.customer_last_seen_at), last_message=last.get(h.id),
            timer=TimerOut(kind=timer.kind, started_at=timer.started_at, due_at=timer.due_at,
                           target_seconds=timer.target_seconds) if timer else None))
    return out


def messages(session: Session, rows: Sequence[HandoffMessage]) -> list[MessageOut]:
    agents = repository.display_names(session, Agent, {m.agent_id for m in rows if m.agent_id is not None})
    return [MessageOut(id=m.id, role=m.role, text=m.text, agent_id=m.agent_id,
                       agent_name=agents.get(m.agent_id) if m.agent_id is not None else None,
                       created_at=as_utc(m.created_at) or utcnow(), delivery=m.delivery, attempts=m.attempts)
            for m in rows]
