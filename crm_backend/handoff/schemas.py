"""Request and response bodies of the handoff API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from crm_backend.core.bounds import DbId


class TranscriptTurn(BaseModel):
    role: Literal["user", "bot"]
    text: str = Field(max_length=4000)
    # Unix seconds up to 2100 (a larger float overflowed datetime.fromtimestamp: 500), or ISO 8601 text.
    at: Annotated[str, Field(max_length=64)] | Annotated[float, Field(ge=0, le=4_102_444_800)] | None = None


class HandoffCreate(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=128)
    channel: str = Field(min_length=1, max_length=32)
    customer_id: DbId | None = None
    reason: str = Field(default="", max_length=1000)
    reason_code: str = Field(default="", max_length=64)
    priority: Literal["urgent", "high", "normal", "low"] = "normal"
    transcript: list[TranscriptTurn] = Field(default_factory=list, max_length=200)
    language: Literal["zh", "en"] = "zh"


class HandoffCreated(BaseModel):
    handoff_id: int
    status: str
    expected_wait_minutes: int
    agents_online: int
    offer_callback: bool


class GestureIn(BaseModel):
    """Bonus points, or a coupon from the rewards catalogue (its code): one of the two."""

    points: int | None = Field(default=None, ge=1, le=1_000_000)
    reward_code: str | None = Field(default=None, min_length=1, max_length=32)
    reason: str = Field(min_length=2, max_length=300)

    @model_validator(mode="after")
    def _one_gesture(self) -> GestureIn:
        if (self.points is None) == (self.reward_code is None):
            raise ValueError("give either points or a reward_code")
        return self


class CouponOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    value_points: int


class GestureOut(BaseModel):
    entry_id: int
    points: int  # points credited (0 for a coupon)
    value_points: int  # what the limit was checked against: the points, or the coupon's price
    coupon: CouponOut | None = None
    balance_after: int
    limit: int
    ticket_no: str | None


class GestureLimitOut(BaseModel):
    limit: int
    tier: str | None
    role: str
    coupons: list[CouponOut] = []  # the catalogue's rewards within the limit


class TimerOut(BaseModel):
    """The response timer running on a handoff: `first` until the first agent reply, then `next` after each
    customer turn the agent has not answered yet."""

    kind: str
    started_at: datetime
    due_at: datetime
    target_seconds: int


class HandoffOut(BaseModel):
    id: int
    conversation_id: str
    channel: str
    customer_id: int | None
    customer_name: str | None
    language: str
    reason: str
    reason_code: str
    priority: str
    value_customer: bool
    status: str
    assigned_agent_id: int | None
    assigned_agent_name: str | None
    ticket_no: str | None
    created_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    waiting_seconds: int
    customer_last_seen_at: datetime | None = None
    last_message: str | None = None
    timer: TimerOut | None = None


class MessageOut(BaseModel):
    id: int
    role: str
    text: str
    agent_id: int | None
    agent_name: str | None
    created_at: datetime
    delivery: str | None
    attempts: int


class HandoffDetail(BaseModel):
    handoff: HandoffOut
    messages: list[MessageOut]
    customer: dict[str, Any] | None


class HandoffPage(BaseModel):
    items: list[HandoffOut]
    total: int
    limit: int
    offset: int


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class TransferIn(BaseModel):
    agent_id: DbId | None = None
    to_supervisor: bool = False
    to_queue: bool = False


class TicketIn(BaseModel):
    ticket_no: str | None = Field(default=None, pattern=r"^T\d{6}$")
    create: bool = False
    description: str | None = Field(default=None, max_length=2000)
    severity: Literal["low", "medium", "high", "critical"] = "medium"


class ResolveOut(BaseModel):
    resolved: bool
    csat_requested: bool
    handoff: HandoffOut
