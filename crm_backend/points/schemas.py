"""Points and rewards API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ExpiringOut(BaseModel):
    points: int
    expires_at: datetime


class BalanceOut(BaseModel):
    customer_id: int
    balance: int
    tier: str
    lifetime_earned: int
    expiring_soon: list[ExpiringOut]
    expiring_total_30d: int


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    points: int
    balance_after: int
    reason: str
    order_id: int | None
    expires_at: datetime | None
    created_at: datetime


class RewardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    cost_points: int
    stock: int | None


class RedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reward_code: str = Field(min_length=1, max_length=32, examples=["COUPON10"])
    quantity: int = Field(default=1, ge=1, le=100)


class RedemptionOut(BaseModel):
    redemption_id: int
    reward_code: str
    quantity: int
    points_spent: int
    balance_after: int


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)
