"""Tier API shapes."""

from __future__ import annotations

from pydantic import BaseModel


class BenefitOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class TierInfoOut(BaseModel):
    tier: str
    name_zh: str
    name_en: str
    multiplier: float
    threshold_12m: float
    benefits: list[BenefitOut]


class CustomerTierOut(BaseModel):
    customer_id: int
    tier: str
    name_zh: str
    name_en: str
    multiplier: float
    benefits: list[BenefitOut]
    spend_12m: float
    next_tier: str | None
    progress_pct: float
    amount_to_next: float
    currency: str
