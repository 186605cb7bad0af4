"""Two CRM processes behind one Redis: a handoff created through A shows up live on B's console stream."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from crm_backend.cli import migrate
from crm_backend.core.db import make_engine
from crm_backend.demo.generator import generate
from crm_backend.tests.handoff.helpers import handoff_body
from crm_backend.tests.handoff.test_bus import redis_url

ROOT = Path(__file__).resolve().parents[3]
PORTS = (18041, 18042)
TOKEN = "two-process-service-token"


def fresh_pg(name: str) -> str:
    import psycopg

    base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parts = urllib.parse.urlsplit(base)
    try:
        with psycopg.connect(urllib.parse.urlunsplit(parts._replace(scheme="postgresql")), autocommit=True,
                             connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {base}: {error}", pytrace=False)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def two_crms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    database = fresh_pg(os.environ.get("KEFU_TEST_PG_DB", "kefu_test_handoff") + "_multi")
    migrate(database)
    engine = make_engine(database)
    with Session(engine) as session:
        generate(session, generated=0, hash_rounds=4)
        session.commit()
    engine.dispose()
    redis = redis_url(6)
    import redis as redis_lib

    redis_lib.Redis.from_url(redis).flushdb()
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis, "CRM_SERVICE_TOKEN": TOKEN,
           "RASA_URL": "http://127.0.0.1:18049", "KEFU_HANDOFF_POLLER": "0", "PYTHONPATH": str(ROOT)}
    logs = tmp_path_factory.mktemp("crm")
    processes = [subprocess.Popen([str(ROOT / ".venvs/crm/bin/python"), "-m", "uvicorn", "crm_backend.main:app",
                                   "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=(logs / f"{port}.log").open("wb"), stderr=subprocess.STDOUT)
                 for port in PORTS]
    urls = tuple(f"http://127.0.0.1:{port}" for port in PORTS)
    try:
        deadline = time.monotonic() + 60
        for url, process in zip(urls, processes, strict=True):
            while True:
                assert process.poll() is None, (logs / f"{url[-5:]}.log").read_text()
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.3)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


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
