"""Ticket writes and reads: create (idempotent, category inferred, PII redacted), status workflow."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core import idempotency
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import DomainError, InvalidTransition, NotFoundError
from crm_backend.customer import service as customer_service
from crm_backend.order.models import Order
from crm_backend.ticket import repository
from crm_backend.ticket.models import Ticket, TicketStatusChange
from crm_backend.ticket.rules import can_transition, sla_hours
from crm_backend.ticket.schemas import StatusChange, TicketCreate, TicketCreated

SUMMARY_CHARS = 80


class TicketNotFound(NotFoundError):
    def __init__(self, ticket_no: str) -> None:
        super().__init__(f"Ticket {ticket_no} not found", f"未找到工单 {ticket_no}", code="ticket_not_found")


def summarize(text: str) -> str:
    """First line of ``text``, cut to SUMMARY_CHARS."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def open_ticket(session: Session, *, data: TicketCreate, actor: str = "service", now: datetime | None = None
                ) -> Ticket:
    """Insert a ticket (no commit): validates customer and order, redacts, infers the category."""
    from crm_backend.text.analyzer import CATEGORY_CONFIDENCE_MIN, analyze

    now = now or utcnow()
    tier = None
    if data.customer_id is not None:
        tier = customer_service.get_customer(session, customer_id=data.customer_id).tier
    if data.order_no is not None:
        order = session.scalars(select(Order).where(Order.order_no == data.order_no)).first()
        if order is None or (data.customer_id is not None and order.customer_id != data.customer_id):
            raise NotFoundError(f"Order {data.order_no} not found", f"未找到订单 {data.order_no}",
                                code="order_not_found")
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
    return ticket


def create_ticket(session: Session, *, data: TicketCreate, idempotency_key: str | None
                  ) -> tuple[int, dict[str, Any]]:
    """POST /tickets: returns (status_code, body); replays the stored answer for a repeated key."""
    from crm_backend.scoring.service import rescore_customer

    def write() -> dict[str, Any]:
        ticket = open_ticket(session, data=data)
        if ticket.customer_id is not None:
            rescore_customer(session, customer_id=ticket.customer_id)
        return TicketCreated(ticket_no=ticket.ticket_no, status="open", category=ticket.category,
                             category_source=ticket.category_source, sla_due_at=ticket.sla_due_at,
                             sla_hours=ticket.sla_hours).model_dump(mode="json")

    return idempotency.run_once(session, scope="tickets", key=idempotency.check_key(idempotency_key),
                                payload=data.model_dump(mode="json"), write=write)


def get_ticket(session: Session, *, ticket_no: str) -> Ticket:
    """The ticket or 404 `ticket_not_found`."""
    ticket = repository.by_no(session, ticket_no)
    if ticket is None:
        raise TicketNotFound(ticket_no)
    return ticket


def change_status(session: Session, *, ticket_no: str, change: StatusChange, now: datetime | None = None) -> Ticket:
    """Apply one workflow step, recording actor and time; 409 `invalid_transition` otherwise."""
    from crm_backend.scoring.service import rescore_customer

    now = now or utcnow()
    try:
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
            rescore_customer(session, customer_id=ticket.customer_id)
        session.commit()
        session.refresh(ticket)
        return ticket
    except DomainError:
        session.rollback()
        raise


def customer_tickets(session: Session, *, customer_id: int, status: str | None, limit: int, offset: int
                     ) -> tuple[list[Ticket], int]:
    """A customer's tickets, newest first; 404 `customer_not_found` for an unknown customer."""
    customer_service.get_customer(session, customer_id=customer_id)
    return repository.for_customer(session, customer_id, status=status, limit=limit, offset=offset)
