"""GET /customers/{id}."""

from __future__ import annotations


def test_named_customer(client, service_headers):
    response = client.get("/api/v1/customers/1", headers=service_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["name_zh"] == "王伟"
    assert body["name_en"] == "Wang Wei"
    assert body["display_name"] == "王伟"
    assert body["tier"] == "diamond"
    assert body["preferred_language"] == "zh"
    assert body["phone_masked"] == "138****0001"


def test_english_customer_display_name(client, service_headers):
    body = client.get("/api/v1/customers/3", headers=service_headers).json()
    assert body["display_name"] == "Emily Carter"
    assert body["preferred_language"] == "en"


def test_unknown_customer(client, service_headers):
    response = client.get("/api/v1/customers/999999", headers={**service_headers, "Accept-Language": "zh"})
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "customer_not_found", "message": "未找到客户 999999",
                                        "details": None}


def test_search_customers(client, service_headers):
    by_name = client.get("/api/v1/customers", params={"q": "王伟"}, headers=service_headers).json()
    assert by_name["items"][0]["id"] == 1
    by_phone = client.get("/api/v1/customers", params={"q": "13800000003"}, headers=service_headers).json()
    assert [c["id"] for c in by_phone["items"]] == [3]
    english = client.get("/api/v1/customers", params={"q": "emily"}, headers=service_headers).json()
    assert english["total"] == 1
    gold = client.get("/api/v1/customers", params={"tier": "gold"}, headers=service_headers).json()
    assert {c["id"] for c in gold["items"]} == {3, 5}
    assert client.get("/api/v1/customers", params={"tier": "platinum"}, headers=service_headers).status_code == 422
    assert client.get("/api/v1/customers", params={"limit": 0}, headers=service_headers).status_code == 422


def test_update_customer(client, service_headers):
    url = "/api/v1/customers/4"
    response = client.patch(url, json={"preferred_language": "en", "consent_marketing": True},
                            headers=service_headers)
    assert response.status_code == 200
    assert response.json()["preferred_language"] == "en" and response.json()["consent_marketing"] is True
    assert response.json()["display_name"] == "Zhang Xiaoming"
    for bad in ({"preferred_language": "fr"}, {"email": "not-an-email"}, {"tier": "diamond"},
                {"preferred_language": None}):
        assert client.patch(url, json=bad, headers=service_headers).status_code == 422
    assert client.get(url, headers=service_headers).json()["tier"] == "regular"


def test_customer_token_round_trip(client, service_headers):
    from crm_backend.core.config import get_settings
    from crm_backend.core.errors import UnauthorizedError
    from crm_backend.core.security import create_customer_token, decode_customer_token

    response = client.post("/api/v1/identity/customer-token", json={"customer_id": 3}, headers=service_headers)
    assert response.status_code == 200
    secret = get_settings().customer_token_secret
    assert decode_customer_token(response.json()["token"], secret) == 3
    assert client.post("/api/v1/identity/customer-token", json={"customer_id": 99999},
                       headers=service_headers).status_code == 404
    expired = create_customer_token(3, secret, ttl_seconds=-10)
    forged = create_customer_token(3, "another-secret")
    for token in (expired, forged, "garbage"):
        try:
            decode_customer_token(token, secret)
        except UnauthorizedError:
            continue
        raise AssertionError(f"{token} was accepted")


def test_password_hashing():
    from crm_backend.core.security import hash_password, verify_password

    hashed = hash_password("agent1-pass", rounds=4)
    assert hashed != "agent1-pass"
    assert verify_password("agent1-pass", hashed)
    assert not verify_password("agent1-PASS", hashed)
    assert not verify_password("x", "not-a-hash")


def test_referral_flow(client, service_headers, session):
    from crm_backend.customer.models import Customer

    newcomer = Customer(name_zh="推荐新人", preferred_language="zh", tier="regular")
    session.add(newcomer)
    session.flush()
    url = "/api/v1/customers/1/referrals"
    created = client.post(url, json={"referred_id": newcomer.id}, headers=service_headers)
    assert created.status_code == 201
    assert created.json()["points_awarded"] == 0 and created.json()["rewarded_at"] is None
    assert client.post("/api/v1/customers/2/referrals", json={"referred_id": newcomer.id},
                       headers=service_headers).status_code == 409
    item = {"sku": "X", "name_zh": "茶", "name_en": "Tea", "qty": 1, "price": "100.00"}
    client.post(f"/api/v1/customers/{newcomer.id}/orders", json={"items": [item]}, headers=service_headers)
    listed = client.get(url, headers=service_headers).json()
    mine = [r for r in listed["items"] if r["referred_id"] == newcomer.id]
    assert mine[0]["points_awarded"] == 200 and mine[0]["rewarded_at"] is not None
    assert client.post(url, json={"referred_id": 1}, headers=service_headers).status_code == 422
    assert client.post(url, json={"referred_id": 3}, headers=service_headers).status_code == 409  # has orders
    assert client.post(url, json={"referred_id": 424242}, headers=service_headers).status_code == 404
