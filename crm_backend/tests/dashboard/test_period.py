"""Dashboard periods: dates outside 2000–2099 are a 422, not a 500 (defect 5)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from testing.handoff import login


@pytest.mark.parametrize("path", ["/api/v1/dashboard/kpis", "/api/v1/dashboard/timeseries",
                                  "/api/v1/dashboard/export/kpis.csv"])
@pytest.mark.parametrize(("start", "end"), [("9999-12-01", "9999-12-31"), ("0001-01-01", "0001-01-02"),
                                            ("2026-01-01", "9999-12-31")])
def test_far_dates_are_422(client: TestClient, path: str, start: str, end: str) -> None:
    login(client, "supervisor")
    response = client.get(path, params={"start": start, "end": end}, headers={"Accept-Language": "zh"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == "日期须在 2000-01-01 到 2099-12-31 之间"


def test_last_allowed_day_works(client: TestClient) -> None:
    login(client, "supervisor")
    response = client.get("/api/v1/dashboard/kpis", params={"start": "2099-12-01", "end": "2099-12-31"})
    assert response.status_code == 200, response.text
