"""Identity API shapes."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, computed_field

from crm_backend.core.bounds import DbId

CHANNEL = Field(min_length=1, max_length=32, examples=["socketio"])
SENDER = Field(min_length=1, max_length=191)


class OtpSendIn(BaseModel):
    phone: str = Field(min_length=5, max_length=20, examples=["13800000001"])
    channel: str = CHANNEL
    sender_id: str = SENDER


class OtpSendOut(BaseModel):
    sent: bool
    expires_in: int


class OtpVerifyIn(OtpSendIn):
    code: str = Field(min_length=1, max_length=12)


class CustomerRef(BaseModel):
    customer_id: int


class OutboxItem(BaseModel):
    id: int
    channel: str
    recipient: str
    body: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def code(self) -> str | None:
        match = re.search(r"\b(\d{6})\b", self.body)
        return match.group(1) if match else None


class CustomerTokenIn(BaseModel):
    customer_id: DbId
    ttl_seconds: int = Field(default=3600, ge=60, le=86_400)


class CustomerTokenOut(BaseModel):
    token: str
    expires_in: int
