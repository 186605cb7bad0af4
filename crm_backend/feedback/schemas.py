"""Feedback API schemas: CSAT 1–5, NPS 0–10 (422 outside), suggestions need text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_backend.core.bounds import DbId

SCORE_RANGE = {"csat": (1, 5), "nps": (0, 10)}


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: DbId | None = None
    kind: Literal["csat", "nps", "suggestion"]
    score: int | None = Field(default=None, ge=0, le=10)
    text: str | None = Field(default=None, max_length=5000)
    ticket_no: str | None = Field(default=None, pattern=r"^T\d{6}$")
    conversation_id: str | None = Field(default=None, max_length=128)
    agent_id: DbId | None = None
    channel: str = Field(default="web", min_length=1, max_length=32)

    @model_validator(mode="after")
    def _check_score(self) -> FeedbackCreate:
        if self.kind in SCORE_RANGE:
            low, high = SCORE_RANGE[self.kind]
            if self.score is None or not low <= self.score <= high:
                raise ValueError(f"{self.kind} score must be an integer from {low} to {high}")
        elif not (self.text or "").strip():
            raise ValueError("a suggestion needs text")
        return self


class CommentCreate(BaseModel):
    """A comment the customer wrote right after a survey answer ("服务很好", "delivery was slow")."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    # The conversation the survey was answered in: a comment only reaches its own conversation's feedback.
    conversation_id: str = Field(min_length=1, max_length=128)


class CommentAdded(BaseModel):
    feedback_id: int
    follow_up_ticket_no: str | None = None


class FeedbackCreated(BaseModel):
    feedback_id: int
    follow_up_ticket_no: str | None = None


def is_low_score(kind: str, score: int | None) -> bool:
    """CSAT ≤ 2 or NPS ≤ 6 (a detractor) opens a follow-up ticket."""
    if score is None:
        return False
    return (kind == "csat" and score <= 2) or (kind == "nps" and score <= 6)
