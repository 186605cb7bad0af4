"""Both sources through real parts: Rasa's SQL broker file and RabbitMQ (127.0.0.1:5672), competing consumers.

Each test commits for real (fresh migrated databases), so it checks what a second process would see.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.conversation.consumer import AmqpConsumer, SqlFileConsumer, prune_sql_file, wait_idle
from crm_backend.conversation.models import ConversationEvent, StreamCursor
from testing import conversation_events as ev

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(ConversationEvent)) or 0


def _many(prefix: str, conversations: int) -> list[dict]:
    out: list[dict] = []
    for n in range(conversations):
        out += ev.conversation(f"{prefix}-{n}", 1_700_000_000.0 + n * 10, intents=["greet", "check_points"])
    return out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sql_broker_file_two_competing_consumers_store_each_event_once(
        kind: str, tmp_path: Path, fresh_engine_factory: Callable[[str], Engine]) -> None:
    engine = fresh_engine_factory(kind)
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    path = tmp_path / "events.db"
    batch = _many("sqlf", 150)  # 1,200 events: several batches
    ev.write_sql_broker_file(path, batch[:600])
    workers = [SqlFileConsumer(str(path), maker, idle_seconds=0.05) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        ev.write_sql_broker_file(path, batch[600:] + [batch[0]])  # one event published twice
        deadline_ok = False
        for _ in range(200):
            if _stored(engine) >= len(batch):
                deadline_ok = True
                break
            wait_idle(workers[0], at_least=10**9, timeout=0.1)
        assert deadline_ok, f"only {_stored(engine)} of {len(batch)} events stored"
    finally:
        for worker in workers:
            worker.stop()
    assert _stored(engine) == len(batch)
    with Session(engine) as session:
        cursor = session.get(StreamCursor, "rasa-sql-broker")
        assert cursor is not None and cursor.position == len(batch) + 1
    assert prune_sql_file(str(path), maker) == len(batch)  # all but the newest stored row
    # Regression: an emptied file numbered Rasa's next events from 1 again, under the cursor: never stored.
    later = ev.conversation("sqlf-after-prune", 1_800_000_000.0, intents=["greet"])
    ev.write_sql_broker_file(path, later)
    reader = SqlFileConsumer(str(path), maker)
    while reader.drain_once():
        pass
    assert _stored(engine) == len(batch) + len(later)
    # A file emptied by the old prune (or replaced) restarts its ids under the cursor: read from the start again.
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events")
    again = ev.conversation("sqlf-emptied", 1_800_000_100.0, intents=["greet"])
    ev.write_sql_broker_file(path, again)
    while reader.drain_once():
        pass
    assert _stored(engine) == len(batch) + len(later) + len(again)


@pytest.fixture
def amqp_names() -> Iterator[tuple[str, str]]:
    """A private exchange + queue on the machine's RabbitMQ, deleted afterwards."""
    import pika

    tag = f"{os.environ.get('KEFU_TEST_NAMESPACE', 'x')}-{uuid.uuid4().hex[:8]}"
    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    except Exception as error:
        pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ_URL} ({error}); start rabbitmq-server", pytrace=False)
    connection.close()
    names = (f"kefu-test-{tag}", f"kefu_test_events_{tag}")
    yield names
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.queue_delete(names[1])
    channel.exchange_delete(names[0])
    connection.close()


def publish(url: str, exchange: str, bodies: list[bytes]) -> None:
    """Publish like Rasa's Pika broker: fanout exchange, persistent messages."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="fanout")
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(exchange, "", body, pika.BasicProperties(delivery_mode=2))
    connection.close()


def declare(url: str, exchange: str, queue: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="fanout")
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, routing_key="")
    connection.close()


@pytest.mark.parametrize("kind", ["postgresql"])
def test_rabbitmq_two_competing_consumers_malformed_skipped_duplicates_once(
        kind: str, amqp_names: tuple[str, str], fresh_engine_factory: Callable[[str], Engine]) -> None:
    exchange, queue = amqp_names
    engine = fresh_engine_factory(kind)
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    declare(RABBITMQ_URL, exchange, queue)
    batch = _many("amqp", 100)
    # Rasa's Pika broker sends one event per message, Kefu's batching one a list of a turn's events.
    bodies = [json.dumps(batch[:20]).encode()] + [json.dumps(e).encode() for e in batch[20:]]
    bodies.insert(30, b"{broken")
    bodies.insert(31, json.dumps([batch[20], {"event": "user"}, 7]).encode())  # a list: 1 stored again, 2 malformed
    bodies.append(bodies[10])  # delivered twice
    publish(RABBITMQ_URL, exchange, bodies)  # waiting in the durable queue before any consumer runs
    workers = [AmqpConsumer(RABBITMQ_URL, queue, maker, exchange=exchange) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        assert wait_idle(workers[0], at_least=1, timeout=20)
        for _ in range(200):
            if sum(w.stored for w in workers) >= len(batch):
                break
            wait_idle(workers[0], at_least=10**9, timeout=0.1)
    finally:
        for worker in workers:
            worker.stop()
    assert _stored(engine) == len(batch)
    assert all(w.stored > 0 for w in workers), [w.stored for w in workers]  # the work was shared
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    left = connection.channel().queue_declare(queue, durable=True, passive=True).method.message_count
    connection.close()
    assert left == 0  # everything acknowledged, the malformed message too
