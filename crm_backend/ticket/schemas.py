"""Ticket API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_backend.core.bounds import DbId
from crm_backend.text.data import CATEGORIES

Kind = Literal["complaint", "request", "callback"]
Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "in_progress", "resolved", "closed"]
Category = Literal["delivery", "product_quality", "service_attitude", "price_billing", "refund_return", "account",
                   "other"]
assert set(CATEGORIES) == set(Category.__args__)  # type: ignore[attr-defined]


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: DbId | None = None
    category: Category | None = None
    severity: Severity = "medium"
    channel: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=1, max_length=5000)
    order_no: str | None = Field(default=None, pattern=r"^KF\d{8}$")
    conversation_id: str | None = Field(default=None, max_length=128)
    kind: Kind = "complaint"

    @field_validator("severity", mode="before")
    @classmethod
    def _alias(cls, value: object) -> object:
        return "medium" if value == "normal" else value

    @field_validator("order_no", mode="before")
    @classmethod
    def _order_no(cls, value: object) -> object:
        """Customers type "kf20250003 " too; blank means no order."""
        if isinstance(value, str):
            return value.strip().upper() or None
        return value


class TicketCreated(BaseModel):
    ticket_no: str
    status: Status
    category: str
    category_source: str
    sla_due_at: datetime
    sla_hours: int


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    at: datetime


class TicketSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ticket_no: str
    kind: str
    category: str
    severity: str
    status: str
    channel: str
    sla_due_at: datetime
    created_at: datetime
    summary: str


class TicketOut(TicketSummary):
    customer_id: int | None
    description: str
    category_source: str
    sentiment: float | None
    order_no: str | None
    conversation_id: str | None
    sla_hours: int
    updated_at: datetime
    resolved_at: datetime | None
    history: list[StatusChangeOut]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    actor: str = Field(default="service", min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=500)
