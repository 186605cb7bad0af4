"""Recommendations as the API returns them: each with its reason, in both languages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Recommendation(BaseModel):
    sku: str
    name_zh: str
    name_en: str
    price: float
    score: float
    # co_purchase: customers who bought `because_sku` also bought this; tier_popular: bought by many members
    # of the customer's tier (customers with no history, or too few co-purchases); bestseller: bought by many
    # customers (a tier with too few other members).
    reason_kind: Literal["co_purchase", "tier_popular", "bestseller"]
    because_sku: str | None = None
    because_name_zh: str | None = None
    because_name_en: str | None = None
    buyers: int  # customers behind the reason (bought both, or bought it in the tier)
    reason_zh: str
    reason_en: str


class Recommendations(BaseModel):
    customer_id: int
    tier: str
    items: list[Recommendation]
