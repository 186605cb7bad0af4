"""POST /escalation/decide schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_backend.core.bounds import DbId
from crm_backend.text.schemas import SENTIMENT_LABELS


class EscalationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: DbId | None = None
    message_sentiment: float | None = Field(default=None, ge=-1, le=1,
                                            description="−1..1, or the label negative/neutral/positive")
    complaint_severity: Literal["low", "medium", "high", "critical"] | None = None
    explicit_request: bool = False
    bot_failures: int = Field(default=0, ge=0, le=1000)
    is_complaint: bool = False

    @field_validator("message_sentiment", mode="before")
    @classmethod
    def _label(cls, value: object) -> object:
        return SENTIMENT_LABELS.get(value, value) if isinstance(value, str) else value

    @field_validator("complaint_severity", mode="before")
    @classmethod
    def _severity_alias(cls, value: object) -> object:
        return "medium" if value == "normal" else value


class EscalationDecisionOut(BaseModel):
    escalate: bool
    priority: Literal["urgent", "high", "normal", "low"]
    reason: str
    reason_code: str
    vip: bool
    tier: str | None
    value_segment: str | None
    satisfaction: float | None
    churn_risk: float | None
