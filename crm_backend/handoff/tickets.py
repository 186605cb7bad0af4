"""Opening a ticket from the console through the ticket domain (owned by CRM analytics)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.handoff.models import Handoff
from crm_backend.handoff.service import messages
from crm_backend.ticket import repository as ticket_repository
from crm_backend.ticket.models import TicketStatusChange
from crm_backend.ticket.schemas import TicketCreate
from crm_backend.ticket.service import get_ticket, open_ticket


def create_for_handoff(session: Session, *, handoff: Handoff, agent: Agent, description: str | None,
                       severity: str) -> str:
    """Open a ticket carrying the conversation (already redacted); returns its number."""
    text = description or "\n".join(f"{m.role}: {m.text}" for m in messages(session, handoff_id=handoff.id)
                                    if m.role in ("user", "agent"))[-4000:] or handoff.reason or handoff.reason_code
    data = TicketCreate.model_validate({
        "customer_id": handoff.customer_id, "severity": severity, "channel": handoff.channel,
        "description": text or "handoff", "conversation_id": handoff.conversation_id, "kind": "request"})
    ticket = open_ticket(session, data=data, actor=f"agent:{agent.username}")
    return ticket.ticket_no


def existing(session: Session, *, ticket_no: str) -> str:
    """The number of an existing ticket (404 when there is none)."""
    return get_ticket(session, ticket_no=ticket_no).ticket_no


def record_reply(session: Session, *, ticket_no: str, agent_id: int | None, text: str) -> None:
    """Keep an agent reply that could not reach the customer on the conversation's ticket."""
    ticket = ticket_repository.by_no(session, ticket_no)
    if ticket is None:
        return
    session.add(TicketStatusChange(ticket_id=ticket.id, from_status=ticket.status, to_status=ticket.status,
                                   actor=f"agent:{agent_id}", note=f"[undelivered reply] {text}"[:500]))
    session.flush()
