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
