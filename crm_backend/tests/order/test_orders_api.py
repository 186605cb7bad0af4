"""Orders, shipping events, earning on purchase (both databases)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm_backend.customer.models import Customer, Referral
from crm_backend.points.models import PointsAccount, PointsEntry

ITEM = {"sku": "TEA-001", "name_zh": "龙井茶", "name_en": "Longjing tea", "qty": 2, "price": "500.00"}


def _balance(session, customer_id):
    return session.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))


def test_order_list_newest_first(client, service_headers):
    page = client.get("/api/v1/customers/1/orders", params={"limit": 3}, headers=service_headers).json()
    assert page["total"] > 20
    first = page["items"][0]
    assert first["order_no"] == "KF20250001"
    assert {"order_no", "status", "shipping_status", "total", "currency", "placed_at"} <= set(first)
    assert first["currency"] == "CNY"
    delivered = client.get("/api/v1/customers/1/orders", params={"status": "delivered"},
                           headers=service_headers).json()
    assert all(o["status"] == "delivered" for o in delivered["items"])


def test_order_in_transit_with_events(client, service_headers):
    body = client.get("/api/v1/customers/3/orders/KF20250003", headers=service_headers).json()
    assert body["status"] == "shipped" and body["shipping_status"] == "in_transit"
    assert body["carrier"] and body["tracking_no"]
    assert body["items"] and body["items"][0]["name_en"]
    assert len(body["events"]) >= 2
    assert [e["at"] for e in body["events"]] == sorted(e["at"] for e in body["events"])
    assert body["events"][0]["description_zh"] and body["events"][0]["description_en"]
    # lower-case input is accepted
    assert client.get("/api/v1/customers/3/orders/kf20250003", headers=service_headers).status_code == 200


def test_other_customers_order_is_not_found(client, service_headers):
    response = client.get("/api/v1/customers/2/orders/KF20250003", headers=service_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"
    assert client.get("/api/v1/customers/999999/orders", headers=service_headers).json()["error"]["code"] == \
        "customer_not_found"


def test_create_order_earns_points_with_multiplier(client, service_headers, session):
    customer = session.get(Customer, 3)  # gold: 1.5×
    customer.birthday = date(1990, 1 if date.today().month != 1 else 2, 1)
    session.flush()
    before = _balance(session, 3)
    headers = {**service_headers, "Idempotency-Key": "order-abc"}
    response = client.post("/api/v1/customers/3/orders", json={"items": [ITEM]}, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["order_no"].startswith("KF") and len(body["order_no"]) == 10 and body["order_no"][2:].isdigit()
    assert body["points_earned"] == 1500
    assert _balance(session, 3) == before + 1500
    replay = client.post("/api/v1/customers/3/orders", json={"items": [ITEM]}, headers=headers)
    assert replay.json() == body and _balance(session, 3) == before + 1500
    detail = client.get(f"/api/v1/customers/3/orders/{body['order_no']}", headers=service_headers).json()
    assert detail["total"] == 1000.0 and detail["points_earned"] == 1500


def test_birthday_month_doubles(client, service_headers, session):
    customer = session.get(Customer, 4)  # regular: 1×
    customer.birthday = date(2000, date.today().month, 1)
    session.flush()
    response = client.post("/api/v1/customers/4/orders", json={"items": [ITEM]}, headers=service_headers)
    assert response.json()["points_earned"] == 2000


def test_first_order_rewards_referrer_and_upgrades_tier(client, service_headers, session):
    newcomer = Customer(name_zh="新客", name_en="New Guest", phone="13700000000", preferred_language="zh",
                        tier="regular", referred_by=2)
    session.add(newcomer)
    session.flush()
    referrer_before = _balance(session, 2)
    big = {**ITEM, "qty": 5, "price": "2000.00"}  # 10,000 → gold at once
    body = client.post(f"/api/v1/customers/{newcomer.id}/orders", json={"items": [big]},
                       headers=service_headers).json()
    assert body["tier"] == "gold"
    assert _balance(session, 2) == referrer_before + 200
    referral = session.scalars(select(Referral).where(Referral.referred_id == newcomer.id)).one()
    assert referral.points_awarded == 200 and referral.rewarded_at is not None
    # a second order does not pay the referrer again
    client.post(f"/api/v1/customers/{newcomer.id}/orders", json={"items": [ITEM]}, headers=service_headers)
    assert _balance(session, 2) == referrer_before + 200
    keys = session.scalars(select(PointsEntry.idempotency_key).where(PointsEntry.customer_id == 2)).all()
    assert keys.count(f"referral:{newcomer.id}") == 1


def test_create_order_bad_input(client, service_headers):
    url = "/api/v1/customers/3/orders"
    assert client.post(url, json={"items": []}, headers=service_headers).status_code == 422
    assert client.post(url, json={"items": [{**ITEM, "qty": -1}]}, headers=service_headers).status_code == 422
    assert client.post(url, json={"items": [ITEM], "extra": 1}, headers=service_headers).status_code == 422
    assert client.post("/api/v1/customers/999999/orders", json={"items": [ITEM]},
                       headers=service_headers).status_code == 404
    headers = {**service_headers, "Idempotency-Key": "same"}
    assert client.post(url, json={"items": [ITEM]}, headers=headers).status_code == 201
    other = client.post(url, json={"items": [{**ITEM, "qty": 3}]}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


def test_shipping_events_move_forward_only(client, service_headers):
    url = "/api/v1/orders/KF20250003/shipping-events"
    event = {"status": "out_for_delivery", "location": "北京 Beijing", "description_zh": "派送中",
             "description_en": "Out for delivery"}
    response = client.post(url, json=event, headers=service_headers)
    assert response.status_code == 201
    assert response.json()["shipping_status"] == "out_for_delivery"
    delivered = client.post(url, json={**event, "status": "delivered", "description_zh": "已签收",
                                       "description_en": "Delivered"}, headers=service_headers).json()
    assert delivered["status"] == "delivered" and delivered["events"][-1]["status"] == "delivered"
    back = client.post(url, json={**event, "status": "in_transit"}, headers=service_headers)
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    assert client.post(url, json={**event, "status": "teleported"}, headers=service_headers).status_code == 422
    assert client.post("/api/v1/orders/KF99999999/shipping-events", json=event,
                       headers=service_headers).status_code == 404


def test_money_is_exact(client, service_headers, session):
    item = {**ITEM, "qty": 3, "price": "19.99"}
    body = client.post("/api/v1/customers/4/orders", json={"items": [item]}, headers=service_headers).json()
    assert Decimal(str(body["total"])) == Decimal("59.97")


def test_refund_reverses_points_once(client, service_headers, session):
    created = client.post("/api/v1/customers/3/orders", json={"items": [ITEM]}, headers=service_headers).json()
    before = _balance(session, 3)
    url = f"/api/v1/customers/3/orders/{created['order_no']}"
    refunded = client.post(f"{url}/refund", headers=service_headers)
    assert refunded.status_code == 200
    assert refunded.json()["status"] == "refunded"
    assert _balance(session, 3) == before - created["points_earned"]
    again = client.post(f"{url}/refund", headers=service_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert _balance(session, 3) == before - created["points_earned"]


def test_cancel_only_before_shipping(client, service_headers, session):
    created = client.post("/api/v1/customers/4/orders", json={"items": [ITEM]}, headers=service_headers).json()
    before = _balance(session, 4)
    assert client.post(f"/api/v1/customers/4/orders/{created['order_no']}/cancel",
                       headers=service_headers).json()["status"] == "cancelled"
    assert _balance(session, 4) == before - created["points_earned"]
    shipped = client.post("/api/v1/customers/3/orders/KF20250003/cancel", headers=service_headers)
    assert shipped.status_code == 409
    assert client.post("/api/v1/customers/2/orders/KF20250003/refund", headers=service_headers).status_code == 404
