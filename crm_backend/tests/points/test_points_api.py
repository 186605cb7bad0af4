"""Points balance, ledger, rewards and redemptions through the HTTP API (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward


def _balance(session, customer_id):
    return session.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))


def _ledger_sum(session, customer_id):
    return session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                          .where(PointsEntry.customer_id == customer_id))


def test_balance_of_vip_with_expiring_points(client, service_headers, session):
    body = client.get("/api/v1/customers/1/points", headers=service_headers).json()
    assert body["tier"] == "diamond"
    assert body["balance"] == _balance(session, 1) == _ledger_sum(session, 1)
    assert body["balance"] > 10_000
    assert body["expiring_total_30d"] > 0
    assert body["expiring_total_30d"] == sum(lot["points"] for lot in body["expiring_soon"])


def test_new_customer_has_no_expiring_points(client, service_headers):
    body = client.get("/api/v1/customers/4/points", headers=service_headers).json()
    assert body["balance"] == 199
    assert body["expiring_soon"] == [] and body["expiring_total_30d"] == 0


def test_entries_paginated(client, service_headers):
    page = client.get("/api/v1/customers/1/points/entries", params={"limit": 5},
                      headers=service_headers).json()
    assert page["limit"] == 5 and page["offset"] == 0
    assert len(page["items"]) == 5 and page["total"] > 5
    first = page["items"][0]
    assert {"kind", "points", "reason", "created_at", "balance_after"} <= set(first)
    times = [item["created_at"] for item in page["items"]]
    assert times == sorted(times, reverse=True)
    earn = client.get("/api/v1/customers/1/points/entries", params={"kind": "earn"}, headers=service_headers).json()
    assert all(item["kind"] == "earn" for item in earn["items"])
    bad = client.get("/api/v1/customers/1/points/entries", params={"kind": "steal"}, headers=service_headers)
    assert bad.status_code == 422


def test_rewards_catalog(client, service_headers):
    page = client.get("/api/v1/rewards", headers=service_headers).json()
    codes = {item["code"]: item for item in page["items"]}
    assert set(codes) == {"COUPON10", "COUPON50", "MUG", "VIPLOUNGE", "SOLDOUT"}
    assert codes["MUG"]["cost_points"] == 1200 and codes["MUG"]["stock"] == 50
    assert codes["COUPON10"]["stock"] is None
    assert page["total"] == 5


def test_redeem_and_replay(client, service_headers, session):
    before = _balance(session, 1)
    headers = {**service_headers, "Idempotency-Key": "redeem-1"}
    first = client.post("/api/v1/customers/1/redemptions", json={"reward_code": "MUG", "quantity": 2},
                        headers=headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["points_spent"] == 2400 and body["balance_after"] <= before - 2400
    assert session.scalar(select(Reward.stock).where(Reward.code == "MUG")) == 48
    again = client.post("/api/v1/customers/1/redemptions", json={"reward_code": "MUG", "quantity": 2},
                        headers=headers)
    assert again.status_code == 201 and again.json() == body
    assert session.scalar(select(func.count()).select_from(Redemption).where(Redemption.customer_id == 1)) == \
        1 + 2  # two from the demo history
    conflict = client.post("/api/v1/customers/1/redemptions", json={"reward_code": "MUG", "quantity": 1},
                           headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert _balance(session, 1) == body["balance_after"] == _ledger_sum(session, 1)


def test_insufficient_points_changes_nothing(client, service_headers, session):
    before = _balance(session, 4)
    response = client.post("/api/v1/customers/4/redemptions", json={"reward_code": "VIPLOUNGE"},
                           headers={**service_headers, "Accept-Language": "zh-CN"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_points"
    assert error["details"] == {"balance": before, "required": 5000}
    assert "积分不足" in error["message"]
    assert _balance(session, 4) == before
    assert session.scalar(select(Reward.stock).where(Reward.code == "VIPLOUNGE")) == 5


def test_out_of_stock(client, service_headers, session):
    before = _balance(session, 1)
    response = client.post("/api/v1/customers/1/redemptions", json={"reward_code": "SOLDOUT"},
                           headers=service_headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert _balance(session, 1) == before


def test_redeem_bad_input(client, service_headers, session):
    before = _balance(session, 1)
    url = "/api/v1/customers/1/redemptions"
    assert client.post("/api/v1/customers/424242/redemptions", json={"reward_code": "MUG"},
                       headers=service_headers).json()["error"]["code"] == "customer_not_found"
    assert client.post(url, json={"reward_code": "NOPE"}, headers=service_headers).status_code == 404
    assert client.post(url, json={"reward_code": "MUG", "quantity": 0}, headers=service_headers).status_code == 422
    malformed = client.post(url, content=b'{"reward_code": "MUG",', headers={**service_headers,
                                                                          "Content-Type": "application/json"})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "validation_error"
    assert "JSON" in malformed.json()["error"]["message"]
    assert client.post(url, json={"reward_code": "MUG"}).status_code == 401
    assert client.post(url, json={"reward_code": "MUG"},
                       headers={"Authorization": "Bearer nope"}).status_code == 401
    big = client.post(url, content=b"{" + b" " * 2_000_000 + b"}",
                      headers={**service_headers, "Content-Type": "application/json"})
    assert big.status_code == 413
    assert _balance(session, 1) == before


def test_adjustment_is_idempotent(client, service_headers, session):
    before = _balance(session, 2)
    headers = {**service_headers, "Idempotency-Key": "goodwill-42"}
    first = client.post("/api/v1/customers/2/points/adjustments", json={"points": 300, "reason": "goodwill"},
                        headers=headers)
    assert first.status_code == 201
    second = client.post("/api/v1/customers/2/points/adjustments", json={"points": 300, "reason": "goodwill"},
                         headers=headers)
    assert second.json()["id"] == first.json()["id"]
    assert _balance(session, 2) == before + 300
    too_much = client.post("/api/v1/customers/2/points/adjustments", json={"points": -10_000_000, "reason": "x"},
                           headers={**service_headers, "Idempotency-Key": "k2"})
    assert too_much.status_code == 422
    negative = client.post("/api/v1/customers/2/points/adjustments",
                           json={"points": -(before + 301), "reason": "oops"},
                           headers={**service_headers, "Idempotency-Key": "k3"})
    assert negative.status_code == 409 and negative.json()["error"]["code"] == "insufficient_points"
    assert _balance(session, 2) == before + 300


def test_points_unknown_customer(client, service_headers):
    for url in ("/api/v1/customers/999999/points", "/api/v1/customers/999999/points/entries"):
        response = client.get(url, headers=service_headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "customer_not_found"
