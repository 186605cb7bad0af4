"""Orders and shipping (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core import idempotency
from crm_backend.core.bounds import IdPath
from crm_backend.core.pagination import Page, PageDep
from crm_backend.loyalty import service as loyalty
from crm_backend.order import service
from crm_backend.order.models import ORDER_STATUSES, Order
from crm_backend.order.schemas import (
    OrderCreated,
    OrderDetailOut,
    OrderIn,
    OrderItemOut,
    OrderSummaryOut,
    ShippingEventIn,
    ShippingEventOut,
)
from crm_backend.points import repository as points_repository

router = APIRouter(tags=["orders"], dependencies=[Depends(require_service_token)])
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(ORDER_STATUSES) + ")$")]


def _detail(session: SessionDep, order: Order) -> OrderDetailOut:
    return OrderDetailOut(
        order_no=order.order_no, customer_id=order.customer_id, status=order.status,
        shipping_status=order.shipping_status, total=float(order.total), currency=order.currency,
        carrier=order.carrier, tracking_no=order.tracking_no, placed_at=order.placed_at,
        items=[OrderItemOut(sku=i.sku, name_zh=i.name_zh, name_en=i.name_en, qty=i.qty, price=float(i.price))
               for i in order.items],
        events=[ShippingEventOut(at=e.at, status=e.status, location=e.location, description_zh=e.description_zh,
                                 description_en=e.description_en) for e in order.events],
        points_earned=points_repository.earned_for_order(session, order.id),
    )


@router.get("/customers/{customer_id}/orders", response_model=Page[OrderSummaryOut])
def list_orders(customer_id: IdPath, session: SessionDep, page: PageDep,
                status: StatusFilter = None) -> Page[OrderSummaryOut]:
    """The customer's orders, newest first."""
    rows, total = service.list_orders(session, customer_id=customer_id, limit=page.limit, offset=page.offset,
                                      status=status)
    items = [OrderSummaryOut(order_no=o.order_no, status=o.status, shipping_status=o.shipping_status,
                             total=float(o.total), currency=o.currency, placed_at=o.placed_at, item_count=n)
             for o, n in rows]
    return Page[OrderSummaryOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/customers/{customer_id}/orders/{order_no}", response_model=OrderDetailOut)
def get_order(customer_id: IdPath, order_no: str, session: SessionDep) -> OrderDetailOut:
    """One order with items and shipping events; 404 `order_not_found` (also for another customer's order)."""
    return _detail(session, service.get_order(session, customer_id=customer_id, order_no=order_no))


def place_order_once(session: SessionDep, *, customer_id: int, body: OrderIn, key: str | None) -> OrderCreated:
    """Record the order once per Idempotency-Key (a retry replays the first answer)."""
    def write() -> OrderCreated:
        placed = loyalty.place_order(session, customer_id=customer_id, data=body)
        return OrderCreated(order_no=placed.order.order_no, status=placed.order.status,
                            total=float(placed.order.total), currency=placed.order.currency,
                            points_earned=placed.points_earned, tier=placed.tier)

    return idempotency.run_once(session, scope=f"order:{customer_id}", key=key, payload=body.model_dump(mode="json"),
                                model=OrderCreated, write=write)


@router.post("/customers/{customer_id}/orders", response_model=OrderCreated, status_code=201,
             responses=error_responses(409))
def create_order(customer_id: IdPath, body: OrderIn, session: SessionDep,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> OrderCreated:
    """Record a paid order: earns points (tier multiplier, birthday double), may upgrade the tier."""
    return place_order_once(session, customer_id=customer_id, body=body, key=idempotency_key)


@router.post("/orders/{order_no}/shipping-events", response_model=OrderDetailOut, status_code=201,
             responses=error_responses(409))
def add_shipping_event(order_no: str, body: ShippingEventIn, session: SessionDep) -> OrderDetailOut:
    """Carrier update; shipping status only moves forward (409 `invalid_transition`)."""
    return _detail(session, service.add_shipping_event(session, order_no=order_no, data=body))


@router.post("/customers/{customer_id}/orders/{order_no}/cancel", response_model=OrderDetailOut,
             responses=error_responses(409))
def cancel_order(customer_id: IdPath, order_no: str, session: SessionDep) -> OrderDetailOut:
    """Cancel an unshipped order; its points are reversed (409 `invalid_transition` otherwise)."""
    return _detail(session, loyalty.close_order(session, customer_id=customer_id, order_no=order_no,
                                                action="cancel"))


@router.post("/customers/{customer_id}/orders/{order_no}/refund", response_model=OrderDetailOut,
             responses=error_responses(409))
def refund_order(customer_id: IdPath, order_no: str, session: SessionDep) -> OrderDetailOut:
    """Refund a paid order; its points are reversed (never below a zero balance)."""
    return _detail(session, loyalty.close_order(session, customer_id=customer_id, order_no=order_no,
                                                action="refund"))
