"""GET /customers/{id}/scores schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ChurnReasonOut(BaseModel):
    code: str
    weight: float
    en: str
    zh: str


class ScoresOut(BaseModel):
    customer_id: int
    rfm: dict[str, int]
    clv: float
    current_value: float
    potential_value: float
    value_segment: str
    lifecycle_stage: str
    satisfaction: float
    churn_risk: float
    churn_level: str
    churn_reasons: list[ChurnReasonOut]
    reasons: list[str]  # churn reasons in the request's language
    explanation: dict[str, Any]
    computed_at: datetime
