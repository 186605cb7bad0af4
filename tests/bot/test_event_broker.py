"""Embedded mode's event broker: every event written once, in order, off the caller's thread."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot import event_broker
from bot.event_broker import QueuedSQLiteEventBroker


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
