"""Recommendations from purchase co-occurrence and tier (both databases)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.customer.models import Customer
from crm_backend.order.models import Order, OrderItem

_n = count(1)
NAMES = {"TST-TEA": ("测试绿茶", "Test green tea"), "TST-CUP": ("测试茶杯", "Test tea cup"),
         "TST-POT": ("测试茶壶", "Test teapot"), "TST-ODD": ("测试怪品", "Test oddity"),
         "TST-KEY": ("测试钥匙扣", "Test key ring")}


def shopper(session: Session, skus: list[str], *, tier: str = "regular", status: str = "delivered",
            days_ago: int = 10) -> int:
    n = next(_n)
    customer = Customer(name_zh=f"推荐{n}", name_en=f"Shopper {n}", phone=f"137{n:08d}", tier=tier)
    session.add(customer)
    session.flush()
    if skus:
        order = Order(order_no=f"RC{n:08d}", customer_id=customer.id, status=status, total=Decimal("10"),
                      placed_at=utcnow() - timedelta(days=days_ago))
        session.add(order)
        session.flush()
        for sku in skus:
            session.add(OrderItem(order_id=order.id, sku=sku, name_zh=NAMES[sku][0], name_en=NAMES[sku][1], qty=1,
                                  price=Decimal("10")))
    session.flush()
    return customer.id


def test_customers_who_bought_x_also_bought_y(client: TestClient, session: Session,
                                             service_headers: dict[str, str]) -> None:
    for _ in range(3):
        shopper(session, ["TST-TEA", "TST-CUP"])
    shopper(session, ["TST-TEA", "TST-POT", "TST-CUP"])
    shopper(session, ["TST-TEA", "TST-ODD"])  # one co-buyer only: below the support threshold
    shopper(session, ["TST-TEA", "TST-KEY"], status="cancelled")  # cancelled orders are no purchase
    shopper(session, ["TST-TEA", "TST-KEY"], status="cancelled")
    me = shopper(session, ["TST-TEA"])
    body = client.get(f"/api/v1/customers/{me}/recommendations", headers=service_headers).json()
    first = body["items"][0]
    assert first["sku"] == "TST-CUP" and first["reason_kind"] == "co_purchase"
    assert first["because_sku"] == "TST-TEA" and first["buyers"] == 4
    assert first["reason_en"] == "Customers who bought Test green tea also bought Test tea cup (4 customers)"
    assert first["reason_zh"] == "购买了「测试绿茶」的顾客也购买了「测试茶杯」（4 位顾客）"
    co = [i["sku"] for i in body["items"] if i["reason_kind"] == "co_purchase"]
    assert "TST-TEA" not in [i["sku"] for i in body["items"]], "nothing the customer bought lately"
    assert "TST-ODD" not in co and "TST-KEY" not in co
    assert len(body["items"]) == 3 and body["tier"] == "regular"


def test_an_item_bought_long_ago_may_come_again(client: TestClient, session: Session,
                                                service_headers: dict[str, str]) -> None:
    for _ in range(2):
        shopper(session, ["TST-TEA", "TST-KEY"])
    me = shopper(session, ["TST-TEA"])
    order = session.get(Order, session.scalar(select(Order.id).where(Order.customer_id == me)))
    assert order is not None
    order.placed_at = utcnow() - timedelta(days=200)
    session.flush()
    skus = [i["sku"] for i in client.get(f"/api/v1/customers/{me}/recommendations",
                                         headers=service_headers).json()["items"]]
    assert skus[0] == "TST-KEY" and "TST-TEA" in skus


def test_tier_weight_orders_equal_co_purchases(client: TestClient, session: Session,
                                               service_headers: dict[str, str]) -> None:
    for _ in range(2):
        shopper(session, ["TST-TEA", "TST-CUP"], tier="regular")
        shopper(session, ["TST-TEA", "TST-POT"], tier="diamond")
    diamond = shopper(session, ["TST-TEA"], tier="diamond")
    regular = shopper(session, ["TST-TEA"], tier="regular")
    top = {who: client.get(f"/api/v1/customers/{cid}/recommendations", headers=service_headers).json()["items"][0]
           for who, cid in (("diamond", diamond), ("regular", regular))}
    assert top["diamond"]["sku"] == "TST-POT" and top["regular"]["sku"] == "TST-CUP"


def test_no_history_gets_the_tiers_bestsellers_with_that_reason(client: TestClient, session: Session,
                                                                service_headers: dict[str, str]) -> None:
    newcomer = shopper(session, [], tier="gold")
    body = client.get(f"/api/v1/customers/{newcomer}/recommendations", params={"limit": 2},
                      headers=service_headers).json()
    assert len(body["items"]) == 2
    assert all(i["reason_kind"] == "tier_popular" and "金卡会员" in i["reason_zh"] and "Gold" in i["reason_en"]
               for i in body["items"])
    assert body["items"][0]["buyers"] >= body["items"][1]["buyers"] >= 1


def test_a_tier_of_one_gets_the_shops_bestsellers(client: TestClient, session: Session,
                                                  service_headers: dict[str, str]) -> None:
    shopper(session, ["TST-POT"], tier="regular")
    loner = shopper(session, [], tier="diamond")
    session.execute(update(Customer).where(Customer.tier == "diamond", Customer.id != loner).values(tier="gold"))
    items = client.get(f"/api/v1/customers/{loner}/recommendations", headers=service_headers).json()["items"]
    assert len(items) == 3 and all(i["reason_kind"] == "bestseller" and "customers bought it" in i["reason_en"]
                                   and "畅销" in i["reason_zh"] for i in items)


def test_needs_the_service_token_and_a_known_customer(client: TestClient, service_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/customers/1/recommendations").status_code == 401
    missing = client.get("/api/v1/customers/999999/recommendations", headers=service_headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "customer_not_found"
