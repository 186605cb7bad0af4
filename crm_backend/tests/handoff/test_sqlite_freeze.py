"""Defect 1 of issue 10: a 4xx must not keep the SQLite write lock and freeze the CRM for 30 s.

Real uvicorn on the embedded SQLite default, real HTTP, the mixed load of the report: agent1 repeats
a transfer of agent2's conversation (403) and a claim of it (409) while the bot opens handoffs and
/health is probed. Before the fix, async handoff routes took `BEGIN IMMEDIATE` and returned the 4xx
with the lock held; every other writer waited the 30 s busy timeout on the event loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import pytest

from testing.crm_processes import crm_processes
from testing.crm_seeding import seeded_engine
from testing.handoff import handoff_body
from testing.services import port_is_free

PORT = int(os.environ.get("KEFU_TEST_CRM_PORT", "18132"))
TOKEN = "freeze-test-service-token"
ROUNDS = 20
LIMIT_SECONDS = 2.0


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not port_is_free(PORT):
        pytest.fail(f"port {PORT} is busy: stop what runs there (or set KEFU_TEST_CRM_PORT)", pytrace=False)
    folder = tmp_path_factory.mktemp("freeze")
    database = f"sqlite:///{folder / 'kefu.db'}"
    seeded_engine(database).dispose()
    with crm_processes((PORT,), database, "", TOKEN, folder / "logs") as urls:
        yield urls[0]


def _agent(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=httpx.Timeout(35))
    response = client.post("/api/v1/auth/login", json={"username": username, "password": f"{username}-pass"})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _timed(call: str, send: Callable[[], httpx.Response]) -> tuple[str, int, float]:
    """(call, status, seconds); a request that got no answer within the client's timeout has status 0."""
    started = time.monotonic()
    try:
        status = send().status_code
    except httpx.TimeoutException:
        status = 0
    return call, status, time.monotonic() - started


def test_4xx_from_agents_never_freezes_the_bot(crm: str) -> None:
    agent1, agent2 = _agent(crm, "agent1"), _agent(crm, "agent2")
    bot = httpx.Client(base_url=crm, timeout=httpx.Timeout(35), headers={"Authorization": f"Bearer {TOKEN}"})
    probe = httpx.Client(base_url=crm, timeout=httpx.Timeout(35))
    created = bot.post("/api/v1/handoffs", json=handoff_body("freeze-held"))
    assert created.status_code == 201, created.text
    held = created.json()["handoff_id"]
    assert agent2.post(f"/api/v1/handoffs/{held}/claim").status_code == 200
    agent1_id = agent1.get("/api/v1/auth/me").json()["agent"]["id"]

    calls: list[tuple[str, Callable[[], httpx.Response]]] = []
    for i in range(ROUNDS):
        calls += [
            ("transfer 403", partial(agent1.post, f"/api/v1/handoffs/{held}/transfer", json={"agent_id": agent1_id})),
            ("claim 409", partial(agent1.post, f"/api/v1/handoffs/{held}/claim")),
            ("bot creates", partial(bot.post, "/api/v1/handoffs", json=handoff_body(f"freeze-{i}"))),
            ("health", partial(probe.get, "/health")),
        ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda item: _timed(*item), calls))

    slow = [(call, status, round(seconds, 2)) for call, status, seconds in results if seconds > LIMIT_SECONDS]
    assert not slow, f"{len(slow)} of {len(results)} requests took over {LIMIT_SECONDS} s: {slow}"
    by_call: dict[str, set[int]] = {}
    for call, status, _ in results:
        by_call.setdefault(call, set()).add(status)
    assert by_call == {"transfer 403": {403}, "claim 409": {409}, "bot creates": {201}, "health": {200}}, by_call

