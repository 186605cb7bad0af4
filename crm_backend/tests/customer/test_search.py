"""Customer search treats % and _ as the characters typed, not as LIKE wildcards."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("q", ["%", "_", "1380000000_", "%@%"])
def test_wildcards_match_literally(client: TestClient, service_headers: dict[str, str], q: str) -> None:
    response = client.get("/api/v1/customers", params={"q": q}, headers=service_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0  # no demo customer has % or _ in a name, phone or email


def test_plain_fragments_still_match(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/customers", params={"q": "13800000001"}, headers=service_headers)
    assert response.json()["total"] == 1
