"""POST /analysis/text."""

from fastapi.testclient import TestClient


def test_analysis_endpoint(client: TestClient, service_headers: dict) -> None:
    r = client.post("/api/v1/analysis/text", headers=service_headers,
                    json={"text": "退款十天了还没到账，太过分了！联系我 13800000002"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "zh"
    assert body["sentiment"]["label"] == "negative" and -1 <= body["sentiment"]["score"] < 0
    assert body["category"]["label"] == "refund_return" and 0 < body["category"]["confidence"] <= 1
    assert body["redacted"].endswith("[PHONE]")
    en = client.post("/api/v1/analysis/text", headers=service_headers,
                     json={"text": "I was charged twice for one order"}).json()
    assert en["language"] == "en" and en["category"]["label"] == "price_billing"


def test_analysis_bad_input(client: TestClient, service_headers: dict) -> None:
    assert client.post("/api/v1/analysis/text", headers=service_headers, json={"text": ""}).status_code == 422
    assert client.post("/api/v1/analysis/text", headers=service_headers,
                       json={"text": "x" * 5001}).status_code == 422
    assert client.post("/api/v1/analysis/text", json={"text": "hi"}).status_code == 401
