"""Two CRM processes behind one Redis: a handoff created through A shows up live on B's console stream."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from testing.crm_processes import crm_processes, fresh_pg
from testing.handoff import handoff_body
from testing.services import ServiceDown, fresh_redis_url

PORTS = (18047, 18048)
TOKEN = "two-process-service-token"


@pytest.fixture(scope="module")
def two_crms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    try:
        database = fresh_pg(os.environ.get("KEFU_TEST_PG_DB", "kefu_test_handoff") + "_multi")
        redis = fresh_redis_url(6)
    except ServiceDown as error:
        pytest.fail(str(error), pytrace=False)
    with crm_processes(PORTS, database, redis, TOKEN, tmp_path_factory.mktemp("crm")) as urls:
        yield urls[0], urls[1]


def test_handoff_created_on_a_reaches_the_console_stream_on_b(two_crms: tuple[str, str]) -> None:
    crm_a, crm_b = two_crms
    console_b = httpx.Client(base_url=crm_b, timeout=10)
    login = console_b.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"})
    assert login.status_code == 200, login.text
    with console_b.stream("GET", "/api/v1/console/events", timeout=httpx.Timeout(15, read=15)) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert any("ready" in line for line in (next(lines) for _ in range(2)))
        created = httpx.post(f"{crm_a}/api/v1/handoffs", json=handoff_body("two-processes"),
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert created.status_code == 201, created.text
        handoff_id = created.json()["handoff_id"]
        started = time.monotonic()
        seen = None
        for line in lines:
            if line.startswith("data:") and line[5:].strip() not in ("", "{}"):
                event = json.loads(line[5:])
                if event.get("handoff_id") == handoff_id:
                    seen = event
                    break
            assert time.monotonic() - started < 10, "no event on B within 10 s"
    assert seen is not None and seen["type"] == "created"
    latency = time.monotonic() - started
    assert latency < 5
    # and B's queue (same PostgreSQL) lists it
    queue = console_b.get("/api/v1/handoffs").json()["items"]
    assert handoff_id in [item["id"] for item in queue]
