"""Consuming Rasa's event broker into the conversation store.

Two sources, one path (`store`): RabbitMQ (Rasa's Pika broker, services mode; a message holds one event,
or a list of them from Kefu's batching broker) and the SQLite file that
Rasa's SQL broker writes (embedded mode, no broker server). A source hands over a batch of raw
messages; `store` parses them (malformed ones are logged and skipped), stores them in one transaction
and commits; only then does the source acknowledge them (RabbitMQ `ack`, or the file cursor moves in the
same transaction). A crash before the commit leaves the events unacknowledged, so they are delivered
again, and the unique event key makes the second delivery a no-op.

Competing consumers: every CRM process consumes the same durable queue (RabbitMQ hands each message
to one of them), or claims the next rows of the file with a conditional cursor update.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.conversation import service
from crm_backend.conversation.models import StreamCursor
from crm_backend.core.db import begin_write

log = logging.getLogger(__name__)

EXCHANGE = "rasa-exchange"  # Rasa's Pika broker publishes to this fanout exchange
BATCH = 200
# A turn's events (user, action, slots, bot, listen: ~10) arrive within a few ms: gathering them for this
# long stores a turn in one commit instead of ten, which took CPU and the database's write lock from the
# requests this CRM process serves (bench/broker_overhead.py --on pika: +20 ms per turn with 1 user).
LINGER_SECONDS = 0.05
SQL_CURSOR = "rasa-sql-broker"

Notify = Callable[[set[int]], None]


@dataclass
class Stored:
    result: service.IngestResult
    malformed: int


def store(session: Session, raws: Iterable[bytes | str], *, before_commit: Callable[[Session], bool] | None = None,
          ) -> Stored | None:
    """Parse, store and commit one batch; returns None when `before_commit` says another consumer won it."""
    events: list[dict[str, Any]] = []
    malformed = 0
    for raw in raws:
        parsed, bad = service.parse_message(raw)
        events += parsed
        malformed += bad
    if session.in_transaction():
        session.rollback()
    begin_write(session)
    try:
        result = service.ingest_batch(session, events)
    except IntegrityError:  # a competing consumer stored one of them meanwhile: redo, event by event
        session.rollback()
        begin_write(session)
        result = service.ingest_batch(session, events, one_by_one=True)
    if before_commit is not None and not before_commit(session):
        session.rollback()
        return None
    session.commit()
    return Stored(result, malformed)


class _Worker:
    """A daemon thread running `self.run()` until `stop()`; failures are logged and retried with backoff."""

    name = "stream"

    def __init__(self, sessionmaker: Callable[[], Session], notify: Notify | None = None) -> None:
        self.sessionmaker, self.notify = sessionmaker, notify
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"kefu-{self.name}", daemon=True)
        self.stored = 0

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        delay = 0.5
        while not self.stopping.is_set():
            try:
                self.run()
                delay = 0.5
            except Exception as error:  # broker or database down: retry, nothing was acknowledged
                log.warning("%s consumer: %s: %s; retrying in %.1f s", self.name, type(error).__name__, error, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 5.0)

    def _stored(self, done: Stored) -> None:
        self.stored += done.result.stored
        if done.result.handoff_ids and self.notify is not None:
            self.notify(done.result.handoff_ids)

    def run(self) -> None:
        raise NotImplementedError


class AmqpConsumer(_Worker):
    """Consume the durable queue Rasa's Pika broker publishes to; ack (multiple) after each commit."""

    name = "amqp"

    def __init__(self, url: str, queue: str, sessionmaker: Callable[[], Session], notify: Notify | None = None,
                 exchange: str = EXCHANGE) -> None:
        super().__init__(sessionmaker, notify)
        self.url, self.queue, self.exchange = url, queue, exchange

    def run(self) -> None:
        import pika

        parameters = pika.URLParameters(self.url)
        parameters.heartbeat = 30
        parameters.blocked_connection_timeout = 30
        connection = pika.BlockingConnection(parameters)
        try:
            channel = connection.channel()
            # Same arguments as Rasa's declarations (a mismatch would close the channel).
            channel.exchange_declare(self.exchange, exchange_type="fanout")
            channel.queue_declare(self.queue, durable=True)
            channel.queue_bind(self.queue, self.exchange, routing_key="")
            channel.basic_qos(prefetch_count=BATCH)
            batch: list[Any] = []
            first_at = 0.0
            for method, _properties, body in channel.consume(self.queue, inactivity_timeout=LINGER_SECONDS):
                if self.stopping.is_set():
                    break
                if method is not None:
                    first_at = first_at or time.monotonic()
                    batch.append((method.delivery_tag, body))
                # Flush when the stream pauses for LINGER_SECONDS, or the batch is full or that old.
                if batch and (method is None or len(batch) >= BATCH
                              or time.monotonic() - first_at >= LINGER_SECONDS):
                    self._flush(channel, batch)
                    batch, first_at = [], 0.0
            channel.cancel()
        finally:
            if connection.is_open:
                connection.close()

    def _flush(self, channel: Any, batch: list[Any]) -> None:
        last_tag = batch[-1][0]
        try:
            with self.sessionmaker() as session:
                done = store(session, [body for _, body in batch])
        except Exception:
            channel.basic_nack(last_tag, multiple=True, requeue=True)
            raise
        channel.basic_ack(last_tag, multiple=True)
        if done is not None:
            self._stored(done)


class SqlFileConsumer(_Worker):
    """Read the `events` table of Rasa's SQL event broker (an SQLite file) after a cursor kept in the CRM."""

    name = "sql-file"

    def __init__(self, path: str, sessionmaker: Callable[[], Session], notify: Notify | None = None,
                 idle_seconds: float = 0.2) -> None:
        super().__init__(sessionmaker, notify)
        self.path, self.idle_seconds = Path(path), idle_seconds
        self._seen: tuple[float, int] | None = None

    def _changed(self) -> bool:
        # A stat() is all an idle round costs: the file changes whenever Rasa appends an event.
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        journal = self.path.with_name(self.path.name + "-wal")
        seen = (stat.st_mtime, stat.st_size + (journal.stat().st_size if journal.exists() else 0))
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def run(self) -> None:
        while not self.stopping.is_set():
            if not self._changed():
                self.stopping.wait(self.idle_seconds)
                continue
            while self.drain_once():
                pass

    def _rows(self, after: int) -> tuple[list[tuple[int, str]], int]:
        """The next batch after `after`, and the file's largest id (0 when empty)."""
        uri = f"file:{self.path}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=5) as db:
            try:
                rows = list(db.execute("SELECT id, data FROM events WHERE id > ? ORDER BY id LIMIT ?",
                                       (after, BATCH)))
                return rows, rows[-1][0] if rows else int(db.execute("SELECT max(id) FROM events").fetchone()[0] or 0)
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return [], 0
                raise

    def drain_once(self) -> bool:
        """Store the next batch; True when there may be more."""
        with self.sessionmaker() as session:
            position = session.scalar(select(StreamCursor.position).where(StreamCursor.name == SQL_CURSOR))
            if position is None:
                session.rollback()
                begin_write(session)
                if session.get(StreamCursor, SQL_CURSOR) is None:
                    session.add(StreamCursor(name=SQL_CURSOR, position=0))
                session.commit()
                position = 0
            session.rollback()
            rows, newest = self._rows(position)
            if not rows and newest < position:
                # The file was emptied (a prune before the fix that keeps its newest row) or replaced: its ids
                # start again under the cursor. Read it from the start; stored events are skipped by their key.
                return self._rewind(session, position)
            if not rows:
                return False

            def claim(s: Session) -> bool:
                moved = s.execute(update(StreamCursor).where(StreamCursor.name == SQL_CURSOR,
                                                             StreamCursor.position == position)
                                  .values(position=newest))
                return bool(getattr(moved, "rowcount", 0))

            done = store(session, [data for _, data in rows], before_commit=claim)
        if done is not None:
            self._stored(done)
        return True

    @staticmethod
    def _rewind(session: Session, position: int) -> bool:
        begin_write(session)
        session.execute(update(StreamCursor).where(StreamCursor.name == SQL_CURSOR, StreamCursor.position == position)
                        .values(position=0))
        session.commit()
        log.warning("Rasa's broker file restarted its ids under the stream cursor (%s): reading it again", position)
        return True


def prune_sql_file(path: str, sessionmaker: Callable[[], Session]) -> int:
    """Delete the rows of Rasa's broker file that are stored already, but the newest; returns how many.

    The table has no AUTOINCREMENT: SQLite numbers a new row one past the largest id left, so emptying it made
    Rasa's next events start again at 1, under the cursor, and they were never read (nor kept: the next prune
    deleted them). Keeping the newest stored row keeps new ids above the cursor.
    """
    if not os.path.exists(path):
        return 0
    with sessionmaker() as session:
        position = session.scalar(select(StreamCursor.position).where(StreamCursor.name == SQL_CURSOR)) or 0
    with sqlite3.connect(path, timeout=10) as db:
        try:
            return db.execute("DELETE FROM events WHERE id < ?", (position,)).rowcount
        except sqlite3.OperationalError:
            return 0


def wait_idle(consumer: _Worker, *, at_least: int, timeout: float = 10.0) -> bool:
    """Tests and benchmarks: wait until the consumer has stored `at_least` events."""
    deadline = time.monotonic() + timeout
    while consumer.stored < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
    return consumer.stored >= at_least
