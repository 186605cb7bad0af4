"""Ticket routes (service token): create, read, status workflow, a customer's tickets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.campaign import service as campaign_service
from crm_backend.core import idempotency
from crm_backend.core.bounds import IdPath
from crm_backend.core.pagination import Page, PageDep
from crm_backend.handoff import live
from crm_backend.ticket import service
from crm_backend.ticket.models import Ticket
from crm_backend.ticket.schemas import StatusChange, TicketCreate, TicketCreated, TicketOut, TicketSummary

router = APIRouter(tags=["tickets"], dependencies=[Depends(require_service_token)])


@router.post("/tickets", status_code=201, response_model=TicketCreated, responses=error_responses(404))
def create_ticket(body: TicketCreate, session: SessionDep,
                  idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> TicketCreated:
    """Open a ticket; the category is inferred from the description when omitted and the model is confident."""
    return open_ticket_once(session, body=body, key=idempotency_key)


def open_ticket_once(session: Session, *, body: TicketCreate, key: str | None) -> TicketCreated:
    """Open the ticket once per Idempotency-Key (a retry replays the first answer, another body is a 409)."""
    def write() -> TicketCreated:
        ticket = service.open_ticket(session, data=body)
        return TicketCreated(ticket_no=ticket.ticket_no, status=ticket.status, category=ticket.category,
                             category_source=ticket.category_source, sla_due_at=ticket.sla_due_at,
                             sla_hours=ticket.sla_hours)

    return idempotency.run_once(session, scope="tickets", key=key, payload=body.model_dump(mode="json"),
                                model=TicketCreated, write=write)


@router.get("/tickets/{ticket_no}", response_model=TicketOut)
def get_ticket(ticket_no: str, session: SessionDep) -> TicketOut:
    """One ticket with its status history; 404 `ticket_not_found`."""
    return TicketOut.model_validate(service.get_ticket(session, ticket_no=ticket_no))


@router.patch("/tickets/{ticket_no}/status", response_model=TicketOut, responses=error_responses(409))
async def change_status(ticket_no: str, body: StatusChange, session: SessionDep) -> TicketOut:
    """Move the ticket along the workflow; 409 `invalid_transition` for a step that is not allowed.

    Once resolved (and committed), the bot tells the customer and asks the CSAT question in the ticket's
    conversation; Rasa being down is logged and audited but never undoes the status change.
    """
    def change() -> tuple[Ticket, TicketOut]:
        ticket = service.change_status(session, ticket_no=ticket_no, change=body)
        return ticket, TicketOut.model_validate(ticket)

    ticket, out = await run_in_threadpool(change)
    if body.status == "resolved" and ticket.conversation_id:
        await campaign_service.ticket_resolved(session, rasa=live.rasa_client(), ticket_no=ticket.ticket_no,
                                               conversation_id=ticket.conversation_id)
    return out


@router.get("/customers/{customer_id}/tickets", response_model=Page[TicketSummary])
def customer_tickets(
    customer_id: IdPath, session: SessionDep, page: PageDep,
    status: Annotated[Literal["open", "in_progress", "resolved", "closed"] | None, Query()] = None,
) -> Page[TicketSummary]:
    """A customer's tickets, newest first, optionally filtered by status."""
    rows, total = service.customer_tickets(session, customer_id=customer_id, status=status, limit=page.limit,
                                           offset=page.offset)
    return Page[TicketSummary](items=[TicketSummary.model_validate(t) for t in rows], total=total,
                               limit=page.limit, offset=page.offset)
