"""Response bodies of the copilot API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class KeyTurn(BaseModel):
    """One of the customer's own (redacted) turns, quoted verbatim."""

    text: str
    sentiment: float
    at: datetime


class Collected(BaseModel):
    order_numbers: list[str]
    complaint: str | None
    category: str | None
    tickets: list[str]


class SentimentTrend(BaseModel):
    scores: list[float]
    first: float | None
    last: float | None
    direction: Literal["improving", "worsening", "steady", "unknown"]


class CustomerBrief(BaseModel):
    id: int
    name: str | None
    tier: str | None
    segment: str | None
    churn_level: str | None
    churn_score: float | None
    churn_reasons: list[str]
    open_tickets: list[str]
    points: int


class HandoffSummary(BaseModel):
    handoff_id: int
    reason_code: str
    reason: str
    key_turns: list[KeyTurn]
    collected: Collected
    sentiment: SentimentTrend
    customer: CustomerBrief | None


class FilledReply(BaseModel):
    code: str
    title: str
    text: str
    # Variables that had no value: left as `{name}` in `text` for the agent to fill in.
    missing: list[str]


class FilledReplies(BaseModel):
    items: list[FilledReply]


class Suggestion(BaseModel):
    source: Literal["canned", "knowledge", "history"]
    # The canned reply's code, the article id or the earlier agent reply's message id.
    key: str
    title: str
    text: str
    missing: list[str]
    score: float


class Suggestions(BaseModel):
    # The customer text the suggestions answer (redacted); "" before the customer wrote anything.
    query: str
    items: list[Suggestion]
    # Sources that failed this time; the others still answered.
    unavailable: list[str]


class SuggestionUseIn(BaseModel):
    source: Literal["canned", "knowledge", "history"]
    key: str = Field(min_length=1, max_length=64)
    edited: bool = False
