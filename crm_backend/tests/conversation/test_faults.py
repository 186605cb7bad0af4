"""Faults with real parts: the test's OWN RabbitMQ (own node name, ports and data dir; the machine's broker is
never touched) restarted while Rasa's Pika broker publishes, and the CRM's consumer down while customers chat.
Malformed events are covered in test_consumers.py (acked, skipped, the consumer keeps going).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.conversation.consumer import AmqpConsumer
from crm_backend.conversation.models import ConversationEvent
from crm_backend.handoff import service as handoff_service
from crm_backend.handoff.models import HandoffMessage
from testing.services import port_is_free

ROOT = Path(__file__).resolve().parents[3]
BOT_PYTHON = ROOT / ".venvs/bot/bin/python"
PUBLISHER = Path(__file__).with_name("rasa_publisher.py")


def _free_port(start: int) -> int:
    for port in range(start, start + 200):
        if port_is_free(port) and port_is_free(port + 1):
            return port
    raise AssertionError("no free port pair for the test RabbitMQ")


def _amqp_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            return s.recv(8).startswith(b"\x01")
    except OSError:
        return False


class OwnRabbit:
    """rabbitmq-server with its own RABBITMQ_NODENAME / NODE_PORT / DIST_PORT / MNESIA_BASE, no plugins."""

    def __init__(self, base: Path) -> None:
        self.base = base
        if shutil.which("rabbitmq-server") is None:
            pytest.fail("rabbitmq-server is not installed (apt-get install rabbitmq-server)", pytrace=False)
        self.port = _free_port(18191 + 10 * (os.getpid() % 50))
        self.node = f"kefu-test-{uuid.uuid4().hex[:8]}@localhost"
        (base / "mnesia").mkdir(parents=True)
        (base / "plugins").write_text("[].\n")
        if os.geteuid() == 0:  # the server script drops to the rabbitmq user
            shutil.chown(base, "rabbitmq", "rabbitmq")
            for path in base.rglob("*"):
                shutil.chown(path, "rabbitmq", "rabbitmq")
        self.env = {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.port + 1), "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(base), "RABBITMQ_LOGS": "-",
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "plugins"), "RABBITMQ_PID_FILE": str(base / "pid"),
                    "RABBITMQ_CONFIG_FILE": str(base / "none")}
        self.log = base / "server.log"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self) -> None:
        with self.log.open("ab") as out:
            server = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=self.base, start_new_session=True)
        deadline = time.monotonic() + 90
        while not _amqp_up(self.port):
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"own RabbitMQ did not start:\n{self.log.read_text()[-2000:]}", pytrace=False)
            time.sleep(0.3)

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self.env, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while _amqp_up(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)


@pytest.fixture(scope="module")
def rabbit() -> Iterator[OwnRabbit]:
    # Not under pytest's tmp dir: that one is private to root, and the server runs as the rabbitmq user.
    base = Path(tempfile.mkdtemp(prefix="kefu-rabbitmq-"))
    own = OwnRabbit(base)
    own.start()
    try:
        yield own
    finally:
        own.stop()
        shutil.rmtree(base, ignore_errors=True)


def _publisher(rabbit: OwnRabbit, exchange: str, queue: str, sender: str, count: int,
               interval: float) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BOT_PYTHON), str(PUBLISHER), str(rabbit.port), exchange, queue, sender, str(count),
                             str(interval)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"})


def _stored(engine: Engine, sender: str) -> tuple[int, int]:
    with Session(engine) as session:
        rows = session.execute(select(func.count(), func.count(func.distinct(ConversationEvent.rasa_ts)))
                               .select_from(ConversationEvent)).one()
        return int(rows[0]), int(rows[1])


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    return predicate()


def test_rabbitmq_restarted_mid_conversation_loses_nothing_and_stores_nothing_twice(
        rabbit: OwnRabbit, fresh_engine_factory: Callable[[str], Engine]) -> None:
    engine = fresh_engine_factory("postgresql")
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    exchange, queue, count = "kefu-fault", "kefu_fault_restart", 300
    consumer = AmqpConsumer(rabbit.url, queue, maker, exchange=exchange)
    publisher = _publisher(rabbit, exchange, queue, "fault-restart", count, 0.02)
    consumer.start()
    try:
        assert _wait(lambda: consumer.stored >= 60, 60), f"nothing consumed before the restart: {consumer.stored}"
        rabbit.stop()  # mid-conversation: the publisher keeps going, the consumer loses its connection
        time.sleep(1)
        rabbit.start()
        out, _ = publisher.communicate(timeout=180)
        assert publisher.returncode == 0, out[-3000:]
        assert _wait(lambda: _stored(engine, "fault-restart")[0] >= count, 60), _stored(engine, "fault-restart")
        time.sleep(1)  # a late redelivery would show up as a second copy now
    finally:
        consumer.stop()
        if publisher.poll() is None:
            publisher.kill()
    assert _stored(engine, "fault-restart") == (count, count)


def test_crm_down_while_customers_chat_the_events_wait_and_the_console_catches_up(
        rabbit: OwnRabbit, fresh_engine_factory: Callable[[str], Engine]) -> None:
    engine = fresh_engine_factory("postgresql")
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    with maker() as session:  # an open handoff whose customer keeps writing while the CRM is down
        created = handoff_service.create_handoff(
            session, conversation_id="fault-down", channel="rest", customer_id=None, reason="help", reason_code="",
            priority="normal", transcript=[], language="en")
        created.handoff.created_at = created.handoff.created_at.replace(year=2020)
        session.commit()
        handoff_id = created.handoff.id
    exchange, queue, count = "kefu-fault", "kefu_fault_down", 100
    publisher = _publisher(rabbit, exchange, queue, "fault-down", count, 0.0)
    out, _ = publisher.communicate(timeout=120)
    assert publisher.returncode == 0, out[-3000:]
    notified: set[int] = set()
    consumer = AmqpConsumer(rabbit.url, queue, maker, notify=notified.update, exchange=exchange)
    consumer.start()  # the CRM is back
    try:
        assert _wait(lambda: _stored(engine, "fault-down")[0] >= count, 60), _stored(engine, "fault-down")
    finally:
        consumer.stop()
    assert _stored(engine, "fault-down") == (count, count)
    with Session(engine) as session:
        turns = session.scalar(select(func.count()).select_from(HandoffMessage)
                               .where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.role == "user"))
    assert turns == count and notified == {handoff_id}
