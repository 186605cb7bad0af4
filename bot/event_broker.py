"""Kefu's event brokers: Rasa's publishing moved off the path of a customer's turn.

Embedded mode (`QueuedSQLiteEventBroker`): the layout of Rasa's SQL broker, written off the serving path.
Rasa's own `SQLEventBroker` commits one row per tracker event on Rasa's event loop: measured in CI, the bot
answered 25 % fewer messages per second with it on (throughput on/off 0.75 with 1 user, 0.79 with 20).
This broker only puts the event on a queue; a writer thread appends batches to the same `events` table
(`id`, `sender_id`, `data`), so the CRM's `SqlFileConsumer` reads it unchanged.

What a crash can lose: a clean shutdown (`close`) writes everything queued. A SIGKILL loses at most the
events queued since the last batch, that is the last `FLUSH_SECONDS` of traffic.

Services mode (`BatchingPikaEventBroker`): Rasa's Pika broker, publishing a turn's events as one message.
Rasa's own creates a task and publishes a persistent message per event, about ten per turn, on the
serving event loop: measured with `bench/broker_overhead.py --on pika`, it cost 17 ms per turn with one
user. This one gathers what is published within `FLUSH_SECONDS` into one message, a JSON list of events
(the CRM's consumer takes a single event or a list). A failed publish keeps the events for Rasa's
reconnect callback, as Rasa's broker does; a SIGKILL loses the last `FLUSH_SECONDS` of traffic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
import time
from asyncio import AbstractEventLoop
from typing import Any

import aio_pika
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
BATCH = 500
RETRY_SECONDS = 0.5
SCHEMA = "CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, PRIMARY KEY (id))"
_STOP = object()


class QueuedSQLiteEventBroker(EventBroker):
    """Publish tracker events to an SQLite file through a queue and one background writer thread."""

    def __init__(self, db: str, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.path, self.flush_seconds = db, flush_seconds
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._run, name="kefu-event-broker", daemon=True)
        self._writer.start()

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: AbstractEventLoop | None = None) -> QueuedSQLiteEventBroker:
        """The broker for `event_broker: {type: bot.event_broker.QueuedSQLiteEventBroker, db: <file>}`."""
        db = broker_config.kwargs.get("db")
        if not db:
            raise ValueError("event_broker needs `db`: the SQLite file the CRM reads (KEFU_EVENTS_DB)")
        return cls(db=str(db))

    def publish(self, event: dict[str, Any]) -> None:
        """Queue one event; serialised now so that later changes to the dict cannot alter what is stored."""
        self._queue.put((event.get("sender_id"), json.dumps(event)))

    def is_ready(self) -> bool:
        """Ready while the writer thread runs."""
        return self._writer.is_alive()

    async def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._queue.put(_STOP)
        self._writer.join(timeout=30)

    def _next_batch(self) -> tuple[list[tuple[Any, str]], bool]:
        """Block for the first event, then take what arrives within `flush_seconds` (at most `BATCH`)."""
        rows: list[tuple[Any, str]] = []
        first = self._queue.get()
        if first is _STOP:
            return rows, True
        rows.append(first)
        deadline = time.monotonic() + self.flush_seconds
        while len(rows) < BATCH:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is _STOP:
                return rows, True
            rows.append(item)
        return rows, False

    def _write(self, db: sqlite3.Connection, rows: list[tuple[Any, str]]) -> None:
        """Append one batch in one transaction, retrying until it is stored (order is kept: nothing overtakes it)."""
        while True:
            try:
                with db:
                    db.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)", rows)
                return
            except sqlite3.Error as error:  # a locked or vanished file must not cost Rasa anything
                log.warning("event broker: %d events not written yet (%s); retrying", len(rows), error)
                time.sleep(RETRY_SECONDS)
                try:
                    db.execute(SCHEMA)
                except sqlite3.Error:
                    pass

    def _run(self) -> None:
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        try:
            with db:
                db.execute(SCHEMA)
            stopping = False
            while not stopping:
                rows, stopping = self._next_batch()
                if rows:
                    self._write(db, rows)
        except Exception:  # the writer logs and ends; is_ready() then reports it
            log.exception("event broker writer stopped")
        finally:
            db.close()


class BatchingPikaEventBroker(PikaEventBroker):
    """Rasa's Pika broker, publishing the events of `flush_seconds` as one message (a JSON list)."""

    def __init__(self, *args: Any, flush_seconds: float = FLUSH_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flush_seconds = float(flush_seconds)
        self._pending: list[dict[str, Any]] = []
        self._flush_timer: asyncio.TimerHandle | None = None

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Queue one event; the first of a batch schedules the publish `flush_seconds` later."""
        self._pending.append(event)
        if len(self._pending) >= BATCH:
            self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self._loop.call_later(self.flush_seconds, self._flush)

    def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        events, self._pending = self._pending, []
        if events:
            task = self._loop.create_task(self._publish_batch(events))
            self._background_tasks.add(task)  # Rasa's set: a task nobody refers to may be collected mid-flight
            task.add_done_callback(self._background_tasks.discard)

    async def _publish_batch(self, events: list[dict[str, Any]]) -> None:
        if self._exchange is None:
            self._unpublished_events.extend(events)
            return
        try:
            await self._exchange.publish(aio_pika.Message(json.dumps(events).encode(), app_id=self.rasa_environment,
                                                          delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")
        except Exception as error:  # kept for the reconnect callback, which publishes them again
            log.error("event broker: %d events not published yet (%s)", len(events), error)
            self._unpublished_events.extend(events)

    async def close(self) -> None:
        """Publish what is gathered, then close the connection."""
        self._flush()
        if self._background_tasks:
            await asyncio.wait(set(self._background_tasks), timeout=10)
        await super().close()
