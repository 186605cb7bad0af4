"""Order domain errors (mapped to HTTP by core's single exception handler)."""

from __future__ import annotations

from crm_backend.core.errors import NotFoundError


class OrderNotFound(NotFoundError):
    def __init__(self, order_no: str) -> None:
        super().__init__(f"Order {order_no} not found", f"未找到订单 {order_no}", code="order_not_found")
