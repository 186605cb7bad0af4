"""Every write that takes an `Idempotency-Key` answers the same way (core/idempotency.py `run_once`):
same key + same body → the first answer again and nothing written twice; same key + another body →
409 `idempotency_conflict` and nothing written. Defect 4 of issue 10: points adjustments answered the
other body with the first entry and 201.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.feedback.models import Feedback
from crm_backend.order.models import Order
from crm_backend.points.models import PointsEntry, Redemption
from crm_backend.ticket.models import Ticket

# (url, first body, other body, the table whose rows the write adds)
KEYED_WRITES: dict[str, tuple[str, dict[str, Any], dict[str, Any], type]] = {
    "points adjustment": ("/api/v1/customers/2/points/adjustments", {"points": 300, "reason": "goodwill 补偿"},
                          {"points": 301, "reason": "goodwill 补偿"}, PointsEntry),
    "redemption": ("/api/v1/customers/1/redemptions", {"reward_code": "COUPON10", "quantity": 1},
                   {"reward_code": "COUPON10", "quantity": 2}, Redemption),
    "order": ("/api/v1/customers/4/orders", {"items": [{"sku": "S1", "name_zh": "杯子", "name_en": "Cup", "qty": 1,
                                                        "price": "20.00"}]},
              {"items": [{"sku": "S1", "name_zh": "杯子", "name_en": "Cup", "qty": 2, "price": "20.00"}]}, Order),
    "ticket": ("/api/v1/tickets", {"customer_id": 3, "severity": "medium", "channel": "web", "kind": "request",
                                   "description": "Please change my delivery address"},
               {"customer_id": 3, "severity": "high", "channel": "web", "kind": "request",
                "description": "Please change my delivery address"}, Ticket),
    "feedback": ("/api/v1/feedback", {"customer_id": 3, "kind": "csat", "score": 5, "channel": "web"},
                 {"customer_id": 3, "kind": "csat", "score": 4, "channel": "web"}, Feedback),
}


def _rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("write", sorted(KEYED_WRITES))
def test_same_key_replays_and_another_body_is_a_conflict(write: str, client: TestClient,
                                                         service_headers: dict[str, str], session: Session) -> None:
    url, body, other, model = KEYED_WRITES[write]
    headers = {**service_headers, "Idempotency-Key": f"idem-{write}", "Accept-Language": "zh-CN"}
    before = _rows(session, model)
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert _rows(session, model) == before + 1

    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()

    conflict = client.post(url, json=other, headers=headers)
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert conflict.json()["error"]["message"] == "该幂等键已用于不同的请求内容"
    assert _rows(session, model) == before + 1, "neither the replay nor the conflict wrote anything"


def test_an_adjustment_conflict_leaves_the_balance_alone(client: TestClient, service_headers: dict[str, str],
                                                         session: Session) -> None:
    headers = {**service_headers, "Idempotency-Key": "adjust-twice"}
    url = "/api/v1/customers/2/points"
    balance = client.get(url, headers=service_headers).json()["balance"]
    assert client.post(f"{url}/adjustments", json={"points": 50, "reason": "a"}, headers=headers).status_code == 201
    conflict = client.post(f"{url}/adjustments", json={"points": -50, "reason": "b"},
                           headers={**headers, "Accept-Language": "en"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["message"] == "This Idempotency-Key was already used with a different request body"
    assert client.get(url, headers=service_headers).json()["balance"] == balance + 50
