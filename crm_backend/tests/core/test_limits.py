"""NUL characters anywhere in a request are a 422 in the caller's language, and nothing is stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.ticket.models import Ticket


def _tickets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket)) or 0


@pytest.mark.parametrize(("language", "message"), [("en", "Text must not contain NUL (\\u0000) characters"),
                                                   ("zh-CN", "文本中不能包含 NUL（\\u0000）字符")])
def test_nul_in_a_json_body_is_422(client: TestClient, service_headers: dict[str, str], session: Session,
                                   language: str, message: str) -> None:
    before = _tickets(session)
    response = client.post("/api/v1/tickets", json={"channel": "web", "description": "kettle\x00broken"},
                           headers={**service_headers, "Accept-Language": language})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {"code": "nul_in_text", "message": message, "details": None}
    assert _tickets(session) == before


def test_nul_in_a_key_and_a_raw_nul_byte_are_422(client: TestClient, service_headers: dict[str, str]) -> None:
    assert client.post("/api/v1/tickets", json={"channel": "web", "description": "x", "a\x00": 1},
                       headers=service_headers).status_code == 422
    raw = client.post("/api/v1/tickets", content=b'{"channel": "web", "description": "x\x00"}',
                      headers={**service_headers, "Content-Type": "application/json"})
    assert raw.json()["error"]["code"] == "nul_in_text"


def test_a_written_backslash_u0000_is_just_text(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.post("/api/v1/tickets", json={"channel": "web", "description": "type \\u0000 to test"},
                           headers=service_headers)
    assert response.status_code == 201, response.text


def test_nul_in_query_path_and_form_is_422(client: TestClient, service_headers: dict[str, str]) -> None:
    query = client.get("/api/v1/customers", params={"q": "a\x00"}, headers=service_headers)
    assert query.status_code == 422 and query.json()["error"]["code"] == "nul_in_text"
    path = client.get("/api/v1/identity/channels/web/a%00b", headers=service_headers)
    assert path.status_code == 422 and path.json()["error"]["code"] == "nul_in_text"
    form = client.post("/console/login", data={"username": "agent1\x00", "password": "x"})
    assert form.status_code == 422 and form.json()["error"]["code"] == "nul_in_text"
