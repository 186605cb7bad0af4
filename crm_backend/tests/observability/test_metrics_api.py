"""`GET /metrics`: business gauges from the database, HTTP metrics by route template, access outside development."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.ticket.models import Ticket
from testing.handoff import handoff_body


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_queue_gauges_follow_waiting_handoffs(client: TestClient, service_headers: dict[str, str]) -> None:
    before = scrape(client)
    for n, priority in enumerate(["urgent", "urgent", "low"]):
        r = client.post("/api/v1/handoffs", json=handoff_body(f"metrics-queue-{n}", priority=priority),
                        headers=service_headers)
        assert r.status_code in (200, 201), r.text
    after = scrape(client)
    assert value(after, "kefu_handoff_queue_length", priority="urgent") == \
        value(before, "kefu_handoff_queue_length", priority="urgent") + 2
    assert value(after, "kefu_handoff_queue_length", priority="low") == \
        value(before, "kefu_handoff_queue_length", priority="low") + 1
    assert value(after, "kefu_handoff_queue_oldest_wait_seconds") >= 0


def test_sla_breaches_are_counted_by_severity(client: TestClient, service_headers: dict[str, str],
                                              session: Session) -> None:
    body = {"customer_id": 3, "severity": "critical", "channel": "web", "kind": "complaint",
            "description": "The parcel never arrived and nobody answers"}
    created = client.post("/api/v1/tickets", json=body, headers={**service_headers, "Idempotency-Key": "metrics-sla"})
    assert created.status_code in (200, 201), created.text
    before = value(scrape(client), "kefu_tickets_sla_breached", severity="critical")
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_no == created.json()["ticket_no"])).one()
    ticket.sla_due_at = datetime.now(UTC) - timedelta(minutes=5)
    session.flush()
    assert value(scrape(client), "kefu_tickets_sla_breached", severity="critical") == before + 1


def test_http_metrics_use_route_templates_not_urls(client: TestClient, service_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/customers/3", headers=service_headers).status_code == 200
    assert client.get("/api/v1/customers/424242", headers=service_headers).status_code == 404
    text = client.get("/metrics").text
    assert 'route="/api/v1/customers/{customer_id}"' in text
    assert "424242" not in text and 'route="/api/v1/customers/3"' not in text
    samples = scrape(client)
    assert value(samples, "kefu_http_request_duration_seconds_count", route="/api/v1/customers/{customer_id}",
                 method="GET", status="4xx") >= 1


def test_metrics_carry_no_conversation_or_customer_data(client: TestClient, service_headers: dict[str, str]) -> None:
    r = client.post("/api/v1/handoffs", json=handoff_body("metrics-private-conv-77"), headers=service_headers)
    assert r.status_code in (200, 201)
    text = client.get("/metrics").text
    for secret in ("metrics-private-conv-77", "13800000003", "Emily", "KF20250003"):
        assert secret not in text


def test_outside_development_metrics_need_the_token(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_ENV", "production")
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    refused = client.get("/metrics", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden" and "METRICS_TOKEN" in refused.json()["error"]["message"]
    monkeypatch.setenv("METRICS_TOKEN", "a-long-random-metrics-token")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    assert client.get("/metrics").status_code == 401
    assert "指标" in client.get("/metrics", headers={"Accept-Language": "zh"}).json()["error"]["message"]
    ok = client.get("/metrics", headers={"Authorization": "Bearer a-long-random-metrics-token"})
    assert ok.status_code == 200 and "kefu_handoff_queue_length" in ok.text
