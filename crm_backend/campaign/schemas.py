"""Request and answer of `POST /campaigns/nps`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from crm_backend.core.bounds import DbId

MAX_TARGETS = 500
ConversationId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class NpsCampaign(BaseModel):
    """Exactly one of the two lists: conversations directly, or customers (their latest conversation)."""

    model_config = ConfigDict(extra="forbid")

    conversation_ids: list[ConversationId] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)
    customer_ids: list[DbId] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)

    @model_validator(mode="after")
    def one_target_list(self) -> NpsCampaign:
        if (self.conversation_ids is None) == (self.customer_ids is None):
            raise ValueError("give either conversation_ids or customer_ids")
        return self


class Failed(BaseModel):
    """A target the survey did not reach, and why (`no_conversation`, `in_handoff`, `rasa_unavailable`)."""

    conversation_id: str | None = None
    customer_id: int | None = None
    reason: str


class CampaignResult(BaseModel):
    triggered: int
    failed: list[Failed]
