"""Conversation stream benchmarks (issue 11). Run from the repo root, under the port lock:

    flock /tmp/kefu-ports.lock nice -n 10 .venvs/crm/bin/python bench/conversation_stream.py [ingest|idle|latency|all]

* ingest  — events/s stored by ONE consumer on PostgreSQL: (a) the store path alone (batches of 200, what a
            consumer commits per round), (b) end to end through RabbitMQ (events waiting in a durable queue,
            one AmqpConsumer draining it, acks after commits).
* idle    — CPU of one CRM process (uvicorn, PostgreSQL, Redis bus, stream consumer on RabbitMQ, retry timer
            on) with 200 open handoffs and no messages, over 30 s; /proc CPU ticks. Target ≤ 2 % of a core.
            (The tracker poller this replaces cost ~0.9 % of a core per open handoff: issue 11's measurement.)
* idle-in-process — the same without a listening server (the app's lifespan inside the bench process).
* latency — 2 CRM processes (PostgreSQL + Redis + RabbitMQ, both consuming the queue): a customer turn of a
            handed-off conversation published to the exchange (as Rasa's Pika broker does) → the `message` SSE
            event on an agent console connected to process B. p50/p95 over 60 turns. Target p95 ≤ 300 ms.
Writes bench/results/conversation_stream.json (merged per part). Uses PostgreSQL database
`kefu_bench_stream`, Redis db 7, and its own exchange/queue on 127.0.0.1:5672; ports 18143/18144.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from crm_backend.conversation.consumer import AmqpConsumer, store  # noqa: E402
from crm_backend.conversation.models import ConversationEvent  # noqa: E402
from crm_backend.core.db import make_engine  # noqa: E402
from testing import conversation_events as ev  # noqa: E402
from testing.crm_processes import crm_processes, fresh_pg  # noqa: E402
from testing.handoff import handoff_body  # noqa: E402
from testing.services import fresh_redis_url  # noqa: E402

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
TOKEN = "bench-service-token"
RESULTS = REPO / "bench" / "results" / "conversation_stream.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def workload(n_conversations: int, tag: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(n_conversations):
        out += ev.conversation(f"{tag}-{n}", 1_750_000_000.0 + n, intents=["greet", "check_points", "ask_human"])
    return out


def amqp_channel() -> Any:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    return connection, connection.channel()


def declare(exchange: str, queue: str) -> None:
    connection, channel = amqp_channel()
    channel.exchange_declare(exchange, exchange_type="fanout")
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, routing_key="")
    connection.close()


def publish(exchange: str, events: list[dict[str, Any]]) -> None:
    import pika

    connection, channel = amqp_channel()
    channel.confirm_delivery()
    for event in events:
        channel.basic_publish(exchange, "", json.dumps(event).encode(), pika.BasicProperties(delivery_mode=2))
    connection.close()


def drop(exchange: str, queue: str) -> None:
    connection, channel = amqp_channel()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    connection.close()


def bench_ingest() -> dict[str, Any]:
    url = fresh_pg("kefu_bench_stream")
    engine = make_engine(url)
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    events = workload(600, "ing")  # 600 × 10 = 6,000 events
    raws = [json.dumps(e) for e in events]
    started = time.perf_counter()
    for i in range(0, len(raws), 200):
        with maker() as session:
            store(session, raws[i:i + 200])
    direct = len(raws) / (time.perf_counter() - started)

    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-bench-{tag}", f"kefu_bench_{tag}"
    declare(exchange, queue)
    amqp_events = workload(600, f"amqp-{tag}")
    publish(exchange, amqp_events)
    consumer = AmqpConsumer(RABBITMQ_URL, queue, maker, exchange=exchange)
    started = time.perf_counter()
    consumer.start()
    while consumer.stored < len(amqp_events) and time.perf_counter() - started < 120:
        time.sleep(0.01)
    through = consumer.stored / (time.perf_counter() - started)
    consumer.stop()
    drop(exchange, queue)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(ConversationEvent))
    engine.dispose()
    return {"events": len(raws), "store_path_events_per_s": round(direct), "rabbitmq_events": len(amqp_events),
            "rabbitmq_end_to_end_events_per_s": round(through), "stored_total": total,
            "target_events_per_s": 1000}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def crm_pids(port: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"uvicorn" in b" ".join(cmd) and str(port).encode() in cmd:
                found.append(int(proc.name))
    return found


def bench_idle(handoffs: int = 200, seconds: float = 30.0) -> dict[str, Any]:
    database, redis = fresh_pg("kefu_bench_stream"), fresh_redis_url(7)
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-bench-{tag}", f"kefu_bench_{tag}"
    env = {"KEFU_EVENT_STREAM": "amqp", "RABBITMQ_URL": RABBITMQ_URL, "KEFU_EVENTS_EXCHANGE": exchange,
           "KEFU_EVENTS_QUEUE": queue, "KEFU_HANDOFF_TIMER": "1"}
    with crm_processes((18143,), database, redis, TOKEN, Path(tempfile.mkdtemp()), **env) as (crm,):
        with httpx.Client(base_url=crm, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as service:
            for i in range(handoffs):
                service.post("/api/v1/handoffs", json=handoff_body(f"idle-{i}", customer_id=None)).raise_for_status()
        time.sleep(3)
        (pid,) = crm_pids(18143)
        before, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        used = cpu_seconds(pid) - before
        elapsed = time.monotonic() - started
    drop(exchange, queue)
    share = 100.0 * used / elapsed
    return {"open_handoffs": handoffs, "seconds": round(elapsed, 1), "cpu_seconds": round(used, 2),
            "cpu_percent_of_a_core": round(share, 2), "target_percent": 2.0,
            "poller_estimate_percent": round(0.9 * handoffs, 0)}


def bench_idle_in_process(handoffs: int = 200, seconds: float = 30.0) -> dict[str, Any]:
    """The same idle measurement without a listening server: the CRM app's lifespan (stream consumer on
    RabbitMQ + retry timer) runs inside this process through Starlette's TestClient; CPU = process time."""
    database, redis = fresh_pg("kefu_bench_stream"), fresh_redis_url(7)
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-bench-{tag}", f"kefu_bench_{tag}"
    os.environ.update({"DATABASE_URL": database, "REDIS_URL": redis, "CRM_SERVICE_TOKEN": TOKEN,
                       "KEFU_EVENT_STREAM": "amqp", "RABBITMQ_URL": RABBITMQ_URL, "KEFU_EVENTS_EXCHANGE": exchange,
                       "KEFU_EVENTS_QUEUE": queue, "KEFU_HANDOFF_TIMER": "1", "RASA_URL": "http://127.0.0.1:9"})
    from fastapi.testclient import TestClient

    from crm_backend.core.config import get_settings
    from crm_backend.main import create_app

    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        for i in range(handoffs):
            client.post("/api/v1/handoffs", json=handoff_body(f"idle-{i}", customer_id=None),
                        headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
        time.sleep(3)
        before, started = time.process_time(), time.monotonic()
        time.sleep(seconds)
        used, elapsed = time.process_time() - before, time.monotonic() - started
    drop(exchange, queue)
    return {"open_handoffs": handoffs, "seconds": round(elapsed, 1), "cpu_seconds": round(used, 3),
            "cpu_percent_of_a_core": round(100.0 * used / elapsed, 2), "target_percent": 2.0,
            "poller_estimate_percent": round(0.9 * handoffs, 0), "server": "none (TestClient lifespan)"}


def bench_latency(turns: int = 60) -> dict[str, Any]:
    database, redis = fresh_pg("kefu_bench_stream"), fresh_redis_url(7)
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"kefu-bench-{tag}", f"kefu_bench_{tag}"
    env = {"KEFU_EVENT_STREAM": "amqp", "RABBITMQ_URL": RABBITMQ_URL, "KEFU_EVENTS_EXCHANGE": exchange,
           "KEFU_EVENTS_QUEUE": queue}
    with crm_processes((18143, 18144), database, redis, TOKEN, Path(tempfile.mkdtemp()), **env) as (crm_a, crm_b):
        with httpx.Client(base_url=crm_a, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as service:
            handoff_id = service.post("/api/v1/handoffs", json=handoff_body("lat-1", customer_id=None)).json()[
                "handoff_id"]
        console = httpx.Client(base_url=crm_b, timeout=30)
        answer = console.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"})
        answer.raise_for_status()
        arrivals: list[float] = []
        ready = threading.Event()

        def listen() -> None:
            with console.stream("GET", "/api/v1/console/events", timeout=httpx.Timeout(120, read=120)) as stream:
                for line in stream.iter_lines():
                    if "ready" in line:
                        ready.set()
                    if line.startswith("data:") and '"message"' in line and f'"handoff_id": {handoff_id}' in line:
                        arrivals.append(time.perf_counter())
                        if len(arrivals) >= turns:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        ready.wait(10)
        import pika

        connection, channel = amqp_channel()
        channel.exchange_declare(exchange, exchange_type="fanout")
        sent: list[float] = []
        for i in range(turns):
            event = ev.user("lat-1", f"turn {i}", time.time(), intent="check_order")
            sent.append(time.perf_counter())
            channel.basic_publish(exchange, "", json.dumps(event).encode(), pika.BasicProperties(delivery_mode=2))
            deadline = time.perf_counter() + 5
            while len(arrivals) <= i and time.perf_counter() < deadline:
                time.sleep(0.002)
            time.sleep(0.1)
        connection.close()
        listener.join(5)
    drop(exchange, queue)
    latencies = [(arrivals[i] - sent[i]) * 1000 for i in range(min(len(arrivals), len(sent)))]
    return {"turns": turns, "received": len(latencies), "p50_ms": percentile(latencies, 0.5),
            "p95_ms": percentile(latencies, 0.95), "max_ms": round(max(latencies), 1), "target_p95_ms": 300,
            "crm_processes": 2}


def main() -> int:
    parts = sys.argv[1:] or ["all"]
    runs = {"ingest": bench_ingest, "idle": bench_idle, "idle-in-process": bench_idle_in_process,
            "latency": bench_latency}
    chosen = list(runs) if "all" in parts else parts
    result: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result["machine"] = platform.platform()
    for name in chosen:
        result[name] = runs[name]()
        print(name, json.dumps(result[name]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
