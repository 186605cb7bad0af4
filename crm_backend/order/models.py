"""Orders, their items and shipping events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

import crm_backend.customer.models  # noqa: F401  (foreign-key target must be in the metadata)
from crm_backend.core.db import Base, UTCDateTime, utcnow

ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
SHIPPING_STATUSES = ("not_shipped", "in_transit", "out_for_delivery", "delivered", "returned")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(10), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="paid")
    shipping_status: Mapped[str] = mapped_column(String(20), default="not_shipped")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[OrderItem]] = relationship(order_by="OrderItem.id", lazy="selectin")
    events: Mapped[list[ShippingEvent]] = relationship(order_by="ShippingEvent.at", lazy="selectin")


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    qty: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class ShippingEvent(Base):
    __tablename__ = "shipping_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(128))
    description_zh: Mapped[str] = mapped_column(String(255))
    description_en: Mapped[str] = mapped_column(String(255))
