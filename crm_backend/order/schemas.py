"""Order API shapes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.order.models import SHIPPING_STATUSES


class OrderSummaryOut(BaseModel):
    order_no: str
    status: str
    shipping_status: str
    total: float
    currency: str
    placed_at: datetime
    item_count: int


class OrderCreated(BaseModel):
    """Answer to recording an order: what it earned and the tier after it."""

    order_no: str
    status: str
    total: float
    currency: str
    points_earned: int
    tier: str


class OrderItemOut(BaseModel):
    sku: str
    name_zh: str
    name_en: str
    qty: int
    price: float


class ShippingEventOut(BaseModel):
    at: datetime
    status: str
    location: str | None
    description_zh: str
    description_en: str


class OrderDetailOut(BaseModel):
    order_no: str
    customer_id: int
    status: str
    shipping_status: str
    total: float
    currency: str
    carrier: str | None
    tracking_no: str | None
    placed_at: datetime
    items: list[OrderItemOut]
    events: list[ShippingEventOut]
    points_earned: int


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=32)
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    qty: int = Field(ge=1, le=999)
    price: Decimal = Field(ge=0, le=1_000_000, decimal_places=2)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    currency: str = Field(default="CNY", pattern="^[A-Z]{3}$")


class ShippingEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern="^(picked_up|" + "|".join(SHIPPING_STATUSES[1:]) + ")$", examples=["in_transit"])
    location: str | None = Field(default=None, max_length=128)
    description_zh: str = Field(min_length=1, max_length=255)
    description_en: str = Field(min_length=1, max_length=255)
    carrier: str | None = Field(default=None, max_length=64)
    tracking_no: str | None = Field(default=None, max_length=64)
    at: datetime | None = None
