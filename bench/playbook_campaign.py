"""A 10,000-recipient playbook campaign against the local stand-in chat-app APIs, with a worker killed mid-run.

Real parts: PostgreSQL (a fresh namespaced database), Redis (Dramatiq broker + shared rate limits), two
`python -m crm_backend.playbook.worker` processes in turn, the stdlib stand-in for the Telegram Bot API,
Slack Web API and WeChat customer-service API (testing/standin_api.py) over HTTP.

Steps: seed N customers matching the win-back rule (one third each on Telegram, Slack, WeChat with a
recent WeChat message), start the run (10 % holdout), enqueue every delivery, SIGKILL the first worker once
~40 % of the messages have arrived, recover the rows it left `sending` (never resent), enqueue the
still-pending deliveries again (duplicates of queued jobs are no-ops), run a second worker to the end.
Reports time, messages/s, duplicate messages and offers (must be 0), worker peak RSS.

Run from the repo root:
    KEFU_TEST_NAMESPACE=<you> .venvs/crm/bin/python bench/playbook_campaign.py [--recipients 10000] [--rate 1000]
(`--rate` is the per-channel messages/s limit; the production defaults are Telegram 30, Slack 20, WeChat 50,
which would make the run limit-bound instead of measuring the pipeline.) Writes bench/results/playbook_campaign.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crm_backend.customer.models import Customer  # noqa: E402
from crm_backend.identity.models import ChannelIdentity  # noqa: E402
from crm_backend.interaction.models import Interaction  # noqa: E402
from crm_backend.playbook import delivery, repository, service  # noqa: E402
from crm_backend.playbook.models import Delivery  # noqa: E402
from crm_backend.playbook.queue import Queue  # noqa: E402
from crm_backend.points.models import PointsEntry  # noqa: E402
from crm_backend.scoring.models import CustomerScore  # noqa: E402
from testing.crm_seeding import seeded_engine  # noqa: E402
from testing.outreach import outreach_settings  # noqa: E402
from testing.services import fresh_database_url  # noqa: E402
from testing.standin_api import StandIn  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNELS = ("telegram", "slack", "wechat")


def seed(session: Session, n: int, now: datetime) -> None:
    start = (session.scalar(select(func.max(Customer.id))) or 0) + 1
    ids = range(start, start + n)
    session.execute(insert(Customer), [dict(id=i, name_zh=f"客户{i}", name_en=f"Customer {i}", phone=f"188{i:08d}",
                                            preferred_language="zh" if i % 2 else "en", tier="regular",
                                            created_at=now - timedelta(days=400)) for i in ids])
    session.execute(insert(CustomerScore), [dict(
        customer_id=i, r=1, f=1, m=1, clv=10.0, current_value=0.1, potential_value=0.1, value_segment="low",
        lifecycle_stage="decline", satisfaction=60.0, churn_risk=0.8, churn_reasons=[], explanation={},
        computed_at=now) for i in ids])
    session.execute(insert(ChannelIdentity), [dict(
        channel=CHANNELS[i % 3], sender_id=str(800_000 + i) if i % 3 == 0 else f"{CHANNELS[i % 3]}-{i}",
        customer_id=i, verified_at=now - timedelta(days=30), created_at=now - timedelta(days=30)) for i in ids])
    session.execute(insert(Interaction), [dict(
        conversation_id=f"bench-{i}", channel="wechat", customer_id=i, intents=[], escalated=False,
        resolved_by_bot=True, created_at=now - timedelta(hours=2), updated_at=now - timedelta(hours=2))
        for i in ids if i % 3 == 2])
    session.commit()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "crm_backend.playbook.worker"], cwd=ROOT, env=env,
                            stdout=handle, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--kill-at", type=float, default=0.4)
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL).ping()
    now = datetime.combine(date.today(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)  # noon, Shanghai
    url = fresh_database_url("kefu_bench_playbooks")
    engine = seeded_engine(url, now=now)
    with Session(engine) as session:
        seed(session, args.recipients, now)
        service.ensure_defaults(session)
        playbook = repository.by_key(session, "win_back")
        assert playbook is not None
        t0 = time.monotonic()
        started = service.start_run(session, playbook_id=playbook.id, now=now)
        session.commit()
        plan_seconds = time.monotonic() - t0
        run_id, pending, playbook_id = started.run.id, started.to_send, playbook.id
    standin = StandIn().start()
    namespace = f"kefu-bench-playbooks-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT),
           "TELEGRAM_ACCESS_TOKEN": "tg-bench", "TELEGRAM_API_BASE_URL": standin.base_url, "SLACK_TOKEN": "xoxb-b",
           "SLACK_API_BASE_URL": f"{standin.base_url}/api/", "WECHAT_APP_ID": "wx-test-app",
           "WECHAT_APP_SECRET": "wx-test-secret", "WECHAT_API_BASE_URL": standin.base_url,
           "RATE_TELEGRAM": str(args.rate), "RATE_SLACK": str(args.rate), "RATE_WECHAT": str(args.rate),
           "WORKER_THREADS": str(args.threads), "DRAMATIQ_NAMESPACE": namespace}
    log = ROOT / "bench" / "results" / "playbook_campaign.worker.log"
    log.unlink(missing_ok=True)
    producer = Queue(REDIS_URL, namespace=namespace, start_worker=False, settings=outreach_settings(standin.base_url))

    def sent_count() -> int:
        return sum(1 for c in standin.calls if c.method in ("sendMessage", "chat.postMessage", "message/custom/send"))

    t_start = time.monotonic()
    producer.enqueue(pending, now=now)
    worker = start_worker(env, log)
    peak = 0
    while sent_count() < args.kill_at * len(pending):
        peak = max(peak, rss_kb(worker.pid))
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    at_kill = sent_count()
    with Session(engine) as session:
        interrupted = delivery.recover_interrupted(session, older_than=timedelta(0))
        again = service.start_run(session, playbook_id=playbook_id, now=now)  # the rerun
        session.commit()
    producer.enqueue(again.to_send, now=now)
    worker = start_worker(env, log)
    while True:
        peak = max(peak, rss_kb(worker.pid))
        with Session(engine) as session:
            left = session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.run_id == run_id, Delivery.status.in_(("pending", "sending"))))
        if not left:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - t_start
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    producer.close()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)
    addresses = Counter(str(c.body.get("chat_id") or c.body.get("channel") or c.body.get("touser"))
                        for c in standin.calls if c.method in ("sendMessage", "chat.postMessage",
                                                               "message/custom/send"))
    with Session(engine) as session:
        statuses = service.delivery_counts(session, run_id=run_id)
        offers = Counter(session.scalars(select(PointsEntry.idempotency_key).where(
            PointsEntry.idempotency_key.like("playbook:%"))))
    standin.stop()
    sent = sum(addresses.values())
    result = {
        "recipients": args.recipients, "treated": len(pending), "holdout": statuses.get("holdout", 0),
        "plan_seconds": round(plan_seconds, 2), "seconds": round(elapsed, 1),
        "messages_per_second": round(sent / elapsed, 1), "messages_sent": sent, "sent_at_kill": at_kill,
        "interrupted_not_resent": interrupted, "duplicate_messages": sum(n - 1 for n in addresses.values() if n > 1),
        "duplicate_offers": sum(n - 1 for n in offers.values() if n > 1), "statuses": statuses,
        "worker_peak_rss_mb": round(peak / 1024, 1), "worker_threads": args.threads, "rate_per_channel": args.rate,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = ROOT / "bench" / "results" / "playbook_campaign.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
