"""Ticket writes and reads: create (idempotent, category inferred, PII redacted), status workflow."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crm_backend.core import events
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import InvalidTransition
from crm_backend.customer import service as customer_service
from crm_backend.order import repository as orders
from crm_backend.order.errors import OrderNotFound
from crm_backend.text.analyzer import CATEGORY_CONFIDENCE_MIN, analyze
from crm_backend.ticket import repository
from crm_backend.ticket.errors import TicketNotFound
from crm_backend.ticket.models import Ticket, TicketStatusChange
from crm_backend.ticket.rules import can_transition, sla_hours
from crm_backend.ticket.schemas import StatusChange, TicketCreate

SUMMARY_CHARS = 80


def summarize(text: str) -> str:
    """First line of ``text``, cut to SUMMARY_CHARS."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def open_ticket(session: Session, *, data: TicketCreate, actor: str = "service", now: datetime | None = None
                ) -> Ticket:
    """Insert a ticket (flushed): validates customer and order, redacts, infers the category."""
    now = now or utcnow()
    tier = None
    if data.customer_id is not None:
        tier = customer_service.get_customer(session, customer_id=data.customer_id).tier
    if data.order_no is not None:
        order = orders.by_no(session, data.order_no)
        if order is None or (data.customer_id is not None and order.customer_id != data.customer_id):
            raise OrderNotFound(data.order_no)
    analysis = analyze(data.description)
    category: str
    if data.category is not None:
        category, source = data.category, "given"
    elif analysis.category.score >= CATEGORY_CONFIDENCE_MIN:
        category, source = analysis.category.label, "inferred"
    else:
        category, source = "other", "default"
    hours = sla_hours(tier=tier, severity=data.severity)
    ticket = Ticket(
        ticket_no=f"tmp-{uuid.uuid4().hex[:12]}", customer_id=data.customer_id, kind=data.kind, category=category,
        category_source=source, severity=data.severity, channel=data.channel, status="open",
        summary=summarize(analysis.redacted), description=analysis.redacted, sentiment=analysis.sentiment.score,
        order_no=data.order_no, conversation_id=data.conversation_id, sla_hours=hours,
        sla_due_at=now + timedelta(hours=hours), created_at=now, updated_at=now,
    )
    session.add(ticket)
    session.flush()
    # The number comes from the row id, so it is unique without a counter table.
    ticket.ticket_no = f"T{100000 + ticket.id:06d}"
    session.add(TicketStatusChange(ticket_id=ticket.id, from_status=None, to_status="open", actor=actor, at=now))
    session.flush()
    if ticket.customer_id is not None:
        events.emit(session, events.CustomerChanged(ticket.customer_id))
    return ticket


def get_ticket(session: Session, *, ticket_no: str) -> Ticket:
    """The ticket or 404 `ticket_not_found`."""
    ticket = repository.by_no(session, ticket_no)
    if ticket is None:
        raise TicketNotFound(ticket_no)
    return ticket


def change_status(session: Session, *, ticket_no: str, change: StatusChange, now: datetime | None = None) -> Ticket:
    """Apply one workflow step, recording actor and time; 409 `invalid_transition` otherwise."""
    now = now or utcnow()
    begin_write(session)
    ticket = repository.by_no(session, ticket_no, lock=True)
    if ticket is None:
        raise TicketNotFound(ticket_no)
    if not can_transition(ticket.status, change.status):
        raise InvalidTransition(ticket.status, change.status)
    session.add(TicketStatusChange(ticket_id=ticket.id, from_status=ticket.status, to_status=change.status,
                                   actor=change.actor, note=change.note, at=now))
    ticket.status = change.status
    ticket.updated_at = now
    if change.status == "resolved":
        ticket.resolved_at = now
    elif change.status == "open":
        ticket.resolved_at = None
    session.flush()
    if ticket.customer_id is not None:
        events.emit(session, events.CustomerChanged(ticket.customer_id))
    return ticket


def customer_tickets(session: Session, *, customer_id: int, status: str | None, limit: int, offset: int
                     ) -> tuple[list[Ticket], int]:
    """A customer's tickets, newest first; 404 `customer_not_found` for an unknown customer."""
    customer_service.get_customer(session, customer_id=customer_id)
    return repository.for_customer(session, customer_id, status=status, limit=limit, offset=offset)
