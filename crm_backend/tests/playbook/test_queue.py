"""Delivery jobs on Dramatiq: in process (embedded mode) and on the real Redis broker with a separate worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import dramatiq
import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.playbook import repository, service
from crm_backend.playbook.models import Delivery
from crm_backend.playbook.queue import Queue
from crm_backend.points.models import PointsEntry
from crm_backend.tests.playbook.conftest import make_customer, outreach_settings, sender
from testing.standin_api import StandIn

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def campaign(engine: Engine, now: datetime, recipients: int) -> tuple[list[int], list[int]]:
    """Customers on Telegram matching win-back, and the pending delivery ids of today's run."""
    with Session(engine) as session:
        service.ensure_defaults(session)
        customers = [make_customer(session, now, stage="decline", churn=0.9, channel="telegram").id
                     for _ in range(recipients)]
        playbook = repository.by_key(session, "win_back")
        assert playbook is not None
        started = service.start_run(session, playbook_id=playbook.id, now=now)
        session.commit()
        return customers, started.to_send


def check_exactly_once(engine: Engine, standin: StandIn, customers: list[int]) -> None:
    chats = [c.body["chat_id"] for c in standin.sent("telegram", "sendMessage")]
    with Session(engine) as session:
        rows = {d.customer_id: d for d in session.scalars(select(Delivery).where(Delivery.customer_id.in_(customers)))}
        entries = session.scalars(select(PointsEntry.customer_id).where(
            PointsEntry.customer_id.in_(customers), PointsEntry.idempotency_key.like("playbook:%"))).all()
    treated = [cid for cid in customers if rows[cid].treated]
    assert treated and all(rows[cid].status == "sent" for cid in treated)
    assert sorted(chats.count(sender("telegram", cid)) for cid in treated) == [1] * len(treated)
    assert all(chats.count(sender("telegram", cid)) == 0 for cid in customers if not rows[cid].treated)
    assert sorted(entries) == sorted(treated)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_embedded_queue_runs_jobs_in_process_once_each(fresh_engine_factory: Callable[[str], Engine],
                                                       standin: StandIn, now: datetime, kind: str) -> None:
    engine = fresh_engine_factory(kind)
    customers, pending = campaign(engine, now, 30)
    standin.calls.clear()
    queue = Queue(None, sessions=sessionmaker(engine, expire_on_commit=False),
                  settings=outreach_settings(standin.base_url))
    try:
        assert queue.embedded
        queue.enqueue(pending, now=now)
        queue.enqueue(pending, now=now)  # a duplicated enqueue (retried request) sends nothing twice
        queue.join(30)
    finally:
        queue.close()
    check_exactly_once(engine, standin, customers)


def test_redis_queue_with_a_separate_worker(fresh_engine_factory: Callable[[str], Engine], standin: StandIn,
                                            now: datetime) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL): {error}", pytrace=False)
    engine = fresh_engine_factory("postgresql")
    customers, pending = campaign(engine, now, 30)
    standin.calls.clear()
    namespace = f"kefu-test-playbooks-{uuid.uuid4().hex[:8]}"
    settings = outreach_settings(standin.base_url, rate_telegram=10)
    producer = Queue(REDIS_URL, namespace=namespace, start_worker=False, settings=settings)
    consumer = Queue(REDIS_URL, namespace=namespace, start_worker=False, settings=settings,
                     sessions=sessionmaker(engine, expire_on_commit=False))
    worker = dramatiq.Worker(consumer.broker, worker_threads=4)
    worker.start()
    started = time.monotonic()
    try:
        producer.enqueue(pending, now=now)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as session:
                left = session.scalar(select(Delivery.id).where(Delivery.id.in_(pending),
                                                                Delivery.status.in_(("pending", "sending"))))
            if left is None:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
        producer.close()
        consumer.close()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
    check_exactly_once(engine, standin, customers)
    # The Telegram limit (10/s here) is shared through Redis: 20+ messages need at least 2 s.
    assert len(pending) >= 20 and elapsed >= (len(pending) // 10) - 1


def test_worker_process_beats_for_its_healthcheck_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`python -m crm_backend.playbook.worker` as compose runs it: ready, heartbeat file, clean SIGTERM."""
    beat = tmp_path / "alive"
    env = {**os.environ, "REDIS_URL": REDIS_URL, "WORKER_HEARTBEAT_FILE": str(beat),
           "DRAMATIQ_NAMESPACE": f"kefu-test-worker-{uuid.uuid4().hex[:8]}", "WORKER_THREADS": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "crm_backend.playbook.worker"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not beat.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert beat.exists() and time.time() - beat.stat().st_mtime < 30
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "playbook worker ready" in output, output
