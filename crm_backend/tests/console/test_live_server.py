"""Console auth on a real uvicorn started like `./kefu run` (proxy headers on for 127.0.0.1):
the live stream ends at logout (defect 7) and a forged X-Forwarded-For does not reset the login limit.

Starts a CRM process on KEFU_TEST_CRM_PORT (default 18133): run under `flock /tmp/kefu-ports.lock`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from testing.crm_processes import crm_processes, fresh_pg
from testing.handoff import handoff_body
from testing.services import ServiceDown

PORT = int(os.environ.get("KEFU_TEST_CRM_PORT", "18133"))
TOKEN = "events-stream-service-token"


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        database = fresh_pg(os.environ.get("KEFU_TEST_PG_DB", "kefu_test") + "_events")
    except ServiceDown as error:
        pytest.fail(str(error), pytrace=False)
    with crm_processes((PORT,), database, "", TOKEN, tmp_path_factory.mktemp("crm")) as urls:
        yield urls[0]


def _create_handoff(crm: str, conversation: str) -> int:
    created = httpx.post(f"{crm}/api/v1/handoffs", json=handoff_body(conversation),
                         headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert created.status_code == 201, created.text
    return int(created.json()["handoff_id"])


def test_open_stream_stops_delivering_after_logout(crm: str) -> None:
    console = httpx.Client(base_url=crm, timeout=10)
    login = console.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"})
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    received: list[str] = []
    with console.stream("GET", "/api/v1/console/events", timeout=httpx.Timeout(15, read=15)) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert any("ready" in line for line in (next(lines) for _ in range(2)))
        seen_live = _create_handoff(crm, "events-before-logout")
        for line in lines:  # the stream works while logged in
            received.append(line)
            if f'"handoff_id": {seen_live}' in line:
                break
        assert console.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        after = _create_handoff(crm, "events-after-logout")
        started = time.monotonic()
        tail = list(lines)  # ends when the server closes the stream
    assert time.monotonic() - started < 10
    assert not any(f'"handoff_id": {after}' in line for line in tail), tail
    assert "event: logout" in tail, tail
    assert console.get("/api/v1/console/events").status_code == 401


def test_forged_forwarded_for_does_not_dodge_the_login_limit(crm: str) -> None:
    answers = [httpx.post(f"{crm}/api/v1/auth/login", json={"username": "agent2", "password": "wrong"},
                          headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=10).status_code
               for n in range(7)]
    assert answers == [401] * 5 + [429] * 2
