"""API shapes of the conversation store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sender_id: str
    channel: str
    language: str
    customer_id: int | None
    started_at: datetime
    last_activity_at: datetime
    outcome: str
    has_handoff: bool
    csat: int | None
    user_turns: int
    fallback_turns: int


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class TurnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    at: datetime
    text: str | None
    name: str | None
    intent: str | None
    confidence: float | None
    entities: Any
    value: Any


class TranscriptOut(BaseModel):
    conversation: ConversationOut
    turns: list[TurnOut]


class ErasureOut(BaseModel):
    customer_id: int
    conversations_deleted: int
    trackers_erased: int
    trackers_failed: list[str]
