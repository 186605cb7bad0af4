"""Bodies of the NLU inbox API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Ranked(BaseModel):
    name: str
    confidence: float


class InboxItem(BaseModel):
    """One distinct message (normalised text and language) and how often customers sent it."""

    text: str
    language: str
    count: int
    channels: list[str]
    last_seen: datetime
    # fallback | low_confidence | rephrased | asked_human | agent_corrected
    reasons: list[str]
    predicted: str | None
    confidence: float | None
    top_intents: list[Ranked]


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    limit: int
    offset: int


class AnnotationIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    language: Literal["zh", "en"]
    # An intent of the bot's domain; null with out_of_scope=true marks the message out of scope.
    intent: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")
    out_of_scope: bool = False
    predicted: str | None = Field(default=None, max_length=128)


class AnnotationsIn(BaseModel):
    items: list[AnnotationIn] = Field(min_length=1, max_length=200)


class AnnotationOut(BaseModel):
    id: int
    text: str
    language: str
    intent: str
    predicted: str | None
    decision: str
    annotated_by: int | None
    annotated_at: datetime

    model_config = {"from_attributes": True}


class AnnotationPage(BaseModel):
    items: list[AnnotationOut]
    total: int
    limit: int
    offset: int


class IntentsOut(BaseModel):
    items: list[str]


class TopicExample(BaseModel):
    text: str
    count: int


class Topic(BaseModel):
    """Unrecognised messages that mean much the same thing (e5 vectors), with how the ask is trending."""

    language: str
    size: int  # messages
    distinct: int  # distinct texts
    examples: list[TopicExample]  # the most frequent first
    texts: list[str]  # every distinct wording (up to 100): what annotating the whole group annotates
    this_week: int  # messages in the last 7 days
    last_week: int  # messages 7–14 days ago
    daily: list[int]  # messages per day, oldest first, ending today
    last_seen: datetime


class TopicsOut(BaseModel):
    items: list[Topic]
    unrecognised: int  # unrecognised messages in the period
    days: int


class FlagIn(BaseModel):
    handoff_id: int = Field(ge=1, le=2**31 - 1)
    message_id: int = Field(ge=1, le=2**31 - 1)


class FlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handoff_id: int
    message_id: int
    text: str
    language: str
