"""Interaction API schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_backend.core.bounds import DbId
from crm_backend.text.schemas import SENTIMENT_LABELS


class InteractionUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=128)
    channel: str = Field(min_length=1, max_length=32)
    customer_id: DbId | None = None
    intents: list[str | dict[str, Any]] = Field(default_factory=list, max_length=200)
    sentiment: float | None = Field(default=None, ge=-1, le=1)
    escalated: bool = False
    resolved_by_bot: bool = False

    @field_validator("sentiment", mode="before")
    @classmethod
    def _label(cls, value: object) -> object:
        """Accept the label ("negative"/"neutral"/"positive") as well as the score."""
        return SENTIMENT_LABELS.get(value, value) if isinstance(value, str) else value


class InteractionSaved(BaseModel):
    interaction_id: int
    created: bool
