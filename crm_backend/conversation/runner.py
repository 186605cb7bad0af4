"""The stream consumer and the retention job that `crm_backend/jobs.py` runs for a CRM process's lifetime."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta

from sqlalchemy.orm import Session

from crm_backend.conversation import consumer, repository
from crm_backend.core.config import Settings
from crm_backend.core.db import begin_write, get_sessionmaker, utcnow
from crm_backend.handoff import live

log = logging.getLogger(__name__)


def make_consumer(settings: Settings, notify: consumer.Notify | None,
                  sessionmaker: Callable[[], Session] | None = None,
                  ) -> consumer.AmqpConsumer | consumer.SqlFileConsumer:
    maker = sessionmaker or get_sessionmaker()
    if settings.event_stream == "amqp":
        if not settings.rabbitmq_url:
            raise ValueError("KEFU_EVENT_STREAM=amqp needs RABBITMQ_URL")
        return consumer.AmqpConsumer(settings.rabbitmq_url, settings.kefu_events_queue, maker, notify,
                                     exchange=settings.kefu_events_exchange)
    return consumer.SqlFileConsumer(settings.events_db_path, maker, notify)


def retention_once(settings: Settings, sessionmaker: Callable[[], Session] | None = None) -> int:
    """Delete transcripts older than the retention period; prune stored rows of the SQL broker file."""
    if settings.conversation_retention_days <= 0:
        return 0
    maker = sessionmaker or get_sessionmaker()
    with maker() as session:
        begin_write(session)
        deleted = repository.delete_older_than(
            session, cutoff=utcnow() - timedelta(days=settings.conversation_retention_days))
        session.commit()
    if settings.event_stream == "sql":
        consumer.prune_sql_file(settings.events_db_path, maker)
    return deleted


class RetentionThread:
    """Every `interval` (first run after `initial_delay`, so short-lived processes never run it)."""

    def __init__(self, settings: Settings, interval: float, initial_delay: float) -> None:
        self.settings, self.interval, self.initial_delay = settings, interval, initial_delay
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="kefu-retention", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        delay = self.initial_delay
        while not self.stopping.wait(delay):
            try:
                log.info("retention: %s conversations deleted", retention_once(self.settings))
            except Exception:  # retried next interval
                log.exception("retention run failed")
            delay = self.interval


def notifier(loop: asyncio.AbstractEventLoop) -> consumer.Notify:
    """From the consumer thread: tell every console that these handoffs have a new turn, and a waiting
    customer who wrote again where they stand in the queue."""
    def notify(handoff_ids: set[int]) -> None:
        for handoff_id in handoff_ids:
            asyncio.run_coroutine_threadsafe(live.publish("message", handoff_id), loop)
            asyncio.run_coroutine_threadsafe(_acknowledge(handoff_id), loop).add_done_callback(_log_failure)
    return notify


async def _acknowledge(handoff_id: int) -> bool:
    session = get_sessionmaker()()
    try:
        return await live.acknowledge(session, handoff_id)
    finally:
        await asyncio.to_thread(session.close)


def _log_failure(future: Future[bool]) -> None:
    """Nobody awaits the acknowledgement: its failure (a database error) would otherwise vanish."""
    if not future.cancelled() and future.exception() is not None:
        log.error("queue acknowledgement failed", exc_info=future.exception())
