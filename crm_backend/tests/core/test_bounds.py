"""Integers beyond the 32-bit INTEGER columns get 422, not a driver error (defect 2), on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crm_backend.core.bounds import INT_MAX

HUGE = 2**63  # was a 500 on SQLite (OverflowError) and PostgreSQL (NumericValueOutOfRange)


@pytest.mark.parametrize("value", [HUGE, INT_MAX + 1])
@pytest.mark.parametrize("path", ["/api/v1/customers/{n}", "/api/v1/customers/{n}/points",
                                  "/api/v1/customers/{n}/orders", "/api/v1/customers/{n}/tier"])
def test_path_ids_beyond_the_column_are_422(client: TestClient, service_headers: dict[str, str], path: str,
                                            value: int) -> None:
    response = client.get(path.format(n=value), headers=service_headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_largest_stored_id_is_a_plain_404(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.get(f"/api/v1/customers/{INT_MAX}", headers=service_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_offset_beyond_the_column_is_422(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/customers", params={"offset": HUGE}, headers=service_headers)
    assert response.status_code == 422
    assert client.get("/api/v1/customers", params={"offset": INT_MAX},
                      headers=service_headers).json()["items"] == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/tickets", {"channel": "web", "description": "broken kettle", "customer_id": HUGE}, "customer_id"),
    ("/api/v1/feedback", {"kind": "suggestion", "text": "more tea", "score": HUGE}, "score"),
    ("/api/v1/feedback", {"kind": "suggestion", "text": "more tea", "agent_id": HUGE}, "agent_id"),
    ("/api/v1/identity/customer-token", {"customer_id": HUGE}, "customer_id"),
    ("/api/v1/interactions", {"conversation_id": "c-big", "channel": "web", "customer_id": HUGE}, "customer_id"),
    ("/api/v1/escalation/decide", {"customer_id": HUGE}, "customer_id"),
])
def test_body_ids_and_scores_beyond_the_column_are_422(client: TestClient, service_headers: dict[str, str],
                                                       path: str, body: dict[str, object], field: str) -> None:
    response = client.post(path, json=body, headers={**service_headers, "Accept-Language": "zh-CN"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("请求参数无效")
    assert [d["loc"][-1] for d in error["details"]] == [field]
