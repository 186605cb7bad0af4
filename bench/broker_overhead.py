"""Bot latency and throughput with the event broker ON vs OFF, interleaved in rounds (issue 11).

Two Kefu Rasa servers on the same model: A with `endpoints.yml` as shipped (Kefu's queued broker writing
every tracker event to a file that the CRM consumes into its conversation store; `--on rasa-sql` puts Rasa's
own SQL broker there instead, the design before; `--on pika` services mode's Pika broker on the machine's
RabbitMQ, a turn's events per message, consumed by the CRM; `--on rasa-pika` Rasa's own Pika broker there,
a message per event, the design before), B with the same endpoints
minus `event_broker`. Rounds alternate A and B (1 user, then 20 concurrent users), so machine noise hits both
alike; the medians over rounds are compared. Same request as bench/bot_latency.py (verified customers asking
their points: Rasa → actions → CRM).

    flock /tmp/kefu-ports.lock .venvs/bot/bin/python bench/broker_overhead.py [--rounds 3] [--messages 60]

Ports 18070–18073 (CRM, actions, Rasa with broker, Rasa without). Writes bench/results/broker_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot_latency import (
    ACTIONS_PORT,
    BOT_BIN,
    CRM_BIN,
    CRM_PORT,
    ROOT,
    Processes,
    kefu_model,
    load,
    log,
    stack_env,
    wait_http,
)

ON_PORT, OFF_PORT = 18072, 18073


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Kefu model (default: newest models/kefu-*.tar.gz)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=60, help="messages per load level per round")
    parser.add_argument("--on", choices=("shipped", "rasa-sql", "pika", "rasa-pika"), default="shipped",
                        help="the 'on' server's broker: endpoints.yml as shipped, Rasa's own SQL broker (before), "
                             "services mode's Pika broker on RabbitMQ at 127.0.0.1:5672 (the CRM consumes it), "
                             "or Rasa's own Pika broker there (before)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "broker_overhead.json"))
    args = parser.parse_args()
    model = kefu_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-broker-"))
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert "event_broker" in endpoints, "endpoints.yml has no event broker to compare"
    on_endpoints = work / "endpoints-on.yml"
    services = yaml.safe_load((ROOT / "endpoints.services.yml").read_text())
    brokers = {"shipped": endpoints["event_broker"], "pika": services["event_broker"],
               "rasa-pika": {**services["event_broker"], "type": "pika"},
               "rasa-sql": {"type": "SQL", "dialect": "sqlite", "db": "${KEFU_EVENTS_DB}"}}
    on_endpoints.write_text(yaml.safe_dump({**endpoints, "event_broker": brokers[args.on]}))
    endpoints.pop("event_broker")
    off_endpoints = work / "endpoints-off.yml"
    off_endpoints.write_text(yaml.safe_dump(endpoints))
    credentials = work / "credentials.yml"
    credentials.write_text("rest:\n")
    procs = Processes(work)
    base = stack_env(work)
    if args.on in ("pika", "rasa-pika"):
        # A queue and exchange of this run only (deleted at the end); the CRM consumes them as in services mode.
        run = work.name.rsplit("-", 1)[-1]
        base.update(RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT="5672", RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest",
                    RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/", KEFU_EVENT_STREAM="amqp",
                    KEFU_EVENTS_EXCHANGE=f"kefu-bench-{run}", KEFU_EVENTS_QUEUE=f"kefu-bench-{run}")
    results: dict[str, Any] = {"model": model.name, "on_broker": args.on, "rounds": args.rounds,
                               "machine_cpus": os.cpu_count(),
                               "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        for step in ("migrate", "seed"):
            subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", step], cwd=ROOT, env=base, check=True,
                           capture_output=True)
        crm = procs.start("crm", [str(CRM_BIN / "python"), "-m", "uvicorn", "crm_backend.main:app", "--host",
                                  "127.0.0.1", "--port", str(CRM_PORT)], base)
        actions = procs.start("actions", [str(BOT_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                          "--port", str(ACTIONS_PORT)], base)
        rasa = {}
        for name, port, file in (("broker_on", ON_PORT, str(on_endpoints)),
                                  ("broker_off", OFF_PORT, str(off_endpoints))):
            rasa[name] = procs.start(name, [str(BOT_BIN / "python"), "-m", "bot.server", "run", "--port", str(port),
                                            "--interface", "127.0.0.1", "--model", str(model), "--endpoints", file,
                                            "--credentials", str(credentials)], base)
        wait_http(f"http://127.0.0.1:{CRM_PORT}/health", 120, crm, "CRM")
        wait_http(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, actions, "action server")
        for name, port in (("broker_on", ON_PORT), ("broker_off", OFF_PORT)):
            wait_http(f"http://127.0.0.1:{port}/", 400, rasa[name], name)
        rounds: dict[str, dict[int, list[dict[str, Any]]]] = {"broker_on": {1: [], 20: []},
                                                              "broker_off": {1: [], 20: []}}
        for r in range(args.rounds):
            order = [("broker_on", ON_PORT), ("broker_off", OFF_PORT)]
            for name, port in order if r % 2 == 0 else order[::-1]:
                for users in (1, 20):
                    figures = asyncio.run(load(port, users, max(1, args.messages // users), True, 10))
                    rounds[name][users].append(figures)
                    log(f"round {r} {name:<10} users={users:>2} p50 {figures['p50_ms']:7.1f} ms "
                        f"{figures['msg_per_s']:6.1f} msg/s")
        results["rounds_raw"] = rounds
        summary = {}
        for users in (1, 20):
            on = rounds["broker_on"][users]
            off = rounds["broker_off"][users]
            summary[f"users_{users}"] = {
                "on_p50_ms": statistics.median(f["p50_ms"] for f in on),
                "off_p50_ms": statistics.median(f["p50_ms"] for f in off),
                "on_msg_per_s": statistics.median(f["msg_per_s"] for f in on),
                "off_msg_per_s": statistics.median(f["msg_per_s"] for f in off),
            }
            summary[f"users_{users}"]["throughput_on_over_off"] = round(
                summary[f"users_{users}"]["on_msg_per_s"] / summary[f"users_{users}"]["off_msg_per_s"], 2)
        results["summary"] = summary
        time.sleep(2)
        results["events_file_bytes"] = (work / "events.db").stat().st_size if (work / "events.db").exists() else 0
        # What the CRM stored from the "on" server's stream: the events reached the conversation store.
        with sqlite3.connect(work / "crm.db") as db:
            results["crm_stored"] = {"conversations": db.execute("SELECT count(*) FROM conversations").fetchone()[0],
                                     "events": db.execute("SELECT count(*) FROM conversation_events").fetchone()[0]}
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        log(json.dumps(summary))
    finally:
        procs.stop()
        if args.on in ("pika", "rasa-pika"):
            delete_rabbitmq(base["KEFU_EVENTS_QUEUE"], base["KEFU_EVENTS_EXCHANGE"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def delete_rabbitmq(queue: str, exchange: str) -> None:
    """Remove the run's queue and exchange from the machine's RabbitMQ (aio-pika: Rasa's own client)."""
    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    try:
        asyncio.run(delete())
    except Exception as error:  # the figures still get written; the leftover check names what is left
        log(f"could not delete RabbitMQ queue/exchange {queue}: {error}")


if __name__ == "__main__":
    sys.exit(main())
