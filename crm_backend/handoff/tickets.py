"""Opening a ticket from the console through the ticket domain (owned by CRM analytics)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.handoff.models import Handoff
from crm_backend.handoff.service import messages


def create_for_handoff(session: Session, *, handoff: Handoff, agent: Agent, description: str | None,
                       severity: str) -> str:
    """Open a ticket carrying the conversation (already redacted); returns its number."""
    from crm_backend.ticket.schemas import TicketCreate  # imported late: the ticket domain is optional here
    from crm_backend.ticket.service import open_ticket

    text = description or "\n".join(f"{m.role}: {m.text}" for m in messages(session, handoff_id=handoff.id)
                                    if m.role in ("user", "agent"))[-4000:] or handoff.reason or handoff.reason_code
    data = TicketCreate.model_validate({
        "customer_id": handoff.customer_id, "severity": severity, "channel": handoff.channel,
        "description": text or "handoff", "conversation_id": handoff.conversation_id, "kind": "request"})
    ticket = open_ticket(session, data=data, actor=f"agent:{agent.username}")
    return ticket.ticket_no


def existing(session: Session, *, ticket_no: str) -> str:
    """The number of an existing ticket (404 when there is none)."""
    from crm_backend.ticket.service import get_ticket

    return get_ticket(session, ticket_no=ticket_no).ticket_no
