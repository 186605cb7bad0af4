"""Delivery jobs on Dramatiq: Redis broker when REDIS_URL is set (workers: `python -m crm_backend.playbook.worker`),
otherwise a stub broker with a worker inside this process (embedded mode). The job is the same in both.

Retries: a transient channel failure or quiet hours re-enqueue the job with a delay computed by `delivery`;
an unexpected exception (database down…) is retried by Dramatiq's Retries middleware. Both are safe because
`delivery.deliver` is idempotent. Per-channel rate limits use Dramatiq's window limiter, shared through Redis
by every worker process (in process otherwise).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend, StubBackend
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.playbook import delivery
from crm_backend.playbook.channels import Senders
from crm_backend.playbook.config import OutreachSettings, get_outreach_settings

log = logging.getLogger(__name__)
QUEUE = "playbooks"
ACTOR = "playbook_deliver"


class Queue:
    """The broker, the delivery actor and (embedded mode) the in-process worker."""

    def __init__(self, redis_url: str | None, *, namespace: str | None = None, start_worker: bool = True,
                 sessions: Callable[[], Session] | None = None, settings: OutreachSettings | None = None) -> None:
        settings = settings or get_outreach_settings()
        namespace = namespace or settings.dramatiq_namespace
        self.sessions = sessions or get_sessionmaker()
        self.embedded = not redis_url
        self.broker: dramatiq.Broker = StubBroker() if self.embedded else RedisBroker(url=redis_url,
                                                                                      namespace=namespace)
        backend = StubBackend() if self.embedded else RedisBackend(url=redis_url)
        rates = {"telegram": settings.rate_telegram, "slack": settings.rate_slack, "wechat": settings.rate_wechat}
        self.limiters = {name: WindowRateLimiter(backend, f"{namespace}:channel:{name}", limit=rate, window=1)
                         for name, rate in rates.items()}
        self.senders = Senders(settings)
        self.senders.throttle = self.throttle
        self.actor = dramatiq.actor(broker=self.broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=5,
                                    min_backoff=1000, max_backoff=60_000)(self._job)
        self.worker: dramatiq.Worker | None = None
        if self.embedded and start_worker:
            self.worker = dramatiq.Worker(self.broker, worker_threads=settings.worker_threads)
            self.worker.start()

    def throttle(self, channel: str) -> None:
        limiter = self.limiters.get(channel)
        if limiter is None:
            return
        while True:
            with limiter.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    return
            time.sleep(0.01)

    def _job(self, delivery_id: int, now_iso: str | None = None) -> None:
        now = datetime.fromisoformat(now_iso) if now_iso else None
        with self.sessions() as session:
            outcome = delivery.deliver(session, delivery_id=delivery_id, senders=self.senders, now=now)
        if outcome.status in ("deferred", "retry"):
            self.actor.send_with_options(args=(delivery_id, now_iso), delay=int(outcome.delay_seconds * 1000))

    def enqueue(self, delivery_ids: list[int], *, now: datetime | None = None) -> int:
        now_iso = now.isoformat() if now else None
        for delivery_id in delivery_ids:
            self.actor.send(delivery_id, now_iso)
        return len(delivery_ids)

    def join(self, timeout_seconds: float = 60) -> None:
        """Embedded mode: wait until every queued job (and the jobs they re-enqueued) has run."""
        assert isinstance(self.broker, StubBroker)
        self.broker.join(QUEUE, timeout=int(timeout_seconds * 1000))
        if self.worker is not None:
            self.worker.join()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.broker.close()


_queue: Queue | None = None
_lock = threading.Lock()


def get_queue() -> Queue:
    """The process-wide queue, built on first use from REDIS_URL (no I/O at import time)."""
    global _queue
    with _lock:
        if _queue is None:
            _queue = Queue((get_settings().redis_url or "").strip() or None)
        return _queue


def set_queue(queue: Queue | None) -> None:
    """Replace the process-wide queue (tests, the worker process)."""
    global _queue
    with _lock:
        if _queue is not None and queue is not _queue:
            _queue.close()
        _queue = queue
