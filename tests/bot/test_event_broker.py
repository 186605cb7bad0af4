"""Kefu's event brokers: embedded mode's writes every event once, in order, off the caller's thread;
services mode's publishes a turn's events as one RabbitMQ message (the machine's RabbitMQ)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot import event_broker
from bot.event_broker import BatchingPikaEventBroker, QueuedSQLiteEventBroker


def rows(path: Path) -> list[tuple[int, str, dict]]:
    with sqlite3.connect(path) as db:
        query = "SELECT id, sender_id, data FROM events ORDER BY id"
        return [(i, sender, json.loads(data)) for i, sender, data in db.execute(query)]


def test_rasa_loads_it_from_the_endpoints_file_and_close_writes_everything(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    config = EndpointConfig(type="bot.event_broker.QueuedSQLiteEventBroker", db=str(path))
    broker = asyncio.run(EventBroker.create(config))
    assert isinstance(broker, QueuedSQLiteEventBroker) and broker.is_ready()
    for n in range(1200):
        broker.publish({"sender_id": f"c{n % 3}", "event": "user", "text": f"消息 {n}", "timestamp": n})
    asyncio.run(broker.close())
    stored = rows(path)
    assert [r[2]["text"] for r in stored] == [f"消息 {n}" for n in range(1200)]  # once each, in order
    assert [r[1] for r in stored[:3]] == ["c0", "c1", "c2"]
    assert not broker.is_ready()


def test_publish_does_not_wait_for_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    broker = QueuedSQLiteEventBroker(db=str(path))
    holder = sqlite3.connect(path, timeout=10)
    holder.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, "
                   "PRIMARY KEY (id))")
    holder.execute("BEGIN EXCLUSIVE")  # e.g. the CRM pruning the file: the writer must wait, Rasa must not
    started = time.monotonic()
    for n in range(100):
        broker.publish({"sender_id": "c", "event": "bot", "text": str(n)})
    assert time.monotonic() - started < 0.5
    holder.rollback()
    holder.close()
    asyncio.run(broker.close())
    assert [r[2]["text"] for r in rows(path)] == [str(n) for n in range(100)]


def test_a_failed_write_is_retried_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "events.db"
    monkeypatch.setattr(event_broker, "RETRY_SECONDS", 0.05)
    broker = QueuedSQLiteEventBroker(db=str(path))
    with sqlite3.connect(path) as db:
        for _ in range(50):  # wait for the writer to create the table, then take it away
            if db.execute("SELECT name FROM sqlite_master WHERE name='events'").fetchone():
                break
            time.sleep(0.02)
        db.execute("DROP TABLE events")
    broker.publish({"sender_id": "c", "event": "user", "text": "still here"})
    asyncio.run(broker.close())  # the writer re-creates the table and stores the batch
    assert [r[2]["text"] for r in rows(path)] == ["still here"]


RABBITMQ = {"url": "127.0.0.1", "port": 5672, "username": "guest", "password": "guest"}


async def _drain(exchange: str, queue: str) -> list[Any]:
    """Every message body left in `queue` (JSON), then the queue and the exchange are deleted."""
    import aio_pika

    connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:{RABBITMQ['port']}/")
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        bodies = []
        while (message := await declared.get(no_ack=True, fail=False)) is not None:
            bodies.append(json.loads(message.body))
        await declared.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(exchange)
        return bodies
    finally:
        await connection.close()


async def _batching_broker(exchange: str, queue: str) -> BatchingPikaEventBroker:
    config = EndpointConfig(type="bot.event_broker.BatchingPikaEventBroker", queues=[queue], exchange_name=exchange,
                            **RABBITMQ)
    try:
        broker = await EventBroker.create(config)
    except Exception as error:
        pytest.fail(f"RabbitMQ is not reachable at 127.0.0.1:5672 ({error}); start rabbitmq-server", pytrace=False)
    assert isinstance(broker, BatchingPikaEventBroker) and broker.is_ready()
    return broker


def _event(n: int) -> dict[str, Any]:
    return {"sender_id": f"c{n % 3}", "event": "user", "text": f"消息 {n}", "timestamp": n}


def test_pika_broker_publishes_a_turn_as_one_message_in_order() -> None:
    """Services mode: ten events of a turn become one message (a JSON list); a burst is cut at BATCH events."""
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-test-broker-{tag}", f"kefu_test_broker_{tag}"

    async def run() -> list[Any]:
        broker = await _batching_broker(exchange, queue)
        for turn in range(30):
            for n in range(turn * 10, turn * 10 + 10):
                broker.publish(_event(n))
            await asyncio.sleep(0.1)
        for n in range(300, 1500):  # a burst: 1,200 events at once
            broker.publish(_event(n))
        await broker.close()
        return await _drain(exchange, queue)

    bodies = asyncio.run(run())
    assert all(isinstance(body, list) for body in bodies)
    assert [e["text"] for body in bodies for e in body] == [f"消息 {n}" for n in range(1500)]  # once each, in order
    assert [len(body) for body in bodies] == [10] * 30 + [event_broker.BATCH, event_broker.BATCH, 200]


def test_pika_broker_keeps_a_batch_that_failed_and_publishes_it_after_reconnecting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-test-broker-{tag}", f"kefu_test_broker_{tag}"

    async def run() -> tuple[int, list[Any]]:
        broker = await _batching_broker(exchange, queue)
        assert broker._exchange is not None
        real = broker._exchange.publish

        async def refused(*args: Any, **kwargs: Any) -> None:
            raise ConnectionError("RabbitMQ went away")

        monkeypatch.setattr(broker._exchange, "publish", refused)
        for n in range(25):
            broker.publish(_event(n))
        await asyncio.sleep(0.2)
        kept = len(broker._unpublished_events)
        monkeypatch.setattr(broker._exchange, "publish", real)
        broker._publish_unpublished_messages()  # what Rasa's reconnect callback does
        await broker.close()
        return kept, await _drain(exchange, queue)

    kept, bodies = asyncio.run(run())
    assert kept == 25
    assert [e["text"] for body in bodies for e in body] == [f"消息 {n}" for n in range(25)]
