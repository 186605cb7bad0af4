"""Ticket domain errors (mapped to HTTP by core's single exception handler)."""

from __future__ import annotations

from crm_backend.core.errors import NotFoundError


class TicketNotFound(NotFoundError):
    def __init__(self, ticket_no: str) -> None:
        super().__init__(f"Ticket {ticket_no} not found", f"未找到工单 {ticket_no}", code="ticket_not_found")
