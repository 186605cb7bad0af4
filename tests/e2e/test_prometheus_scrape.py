"""A real Prometheus (Debian's `prometheus`) scrapes the running stack; after a conversation the business
metrics read back with PromQL, and the conversation's id is in the logs of all three processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kefu_ops.logs import conversation_ref
from tests.e2e.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("kefu-rasa", "kefu-actions", "kefu-crm")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", f"{promql}: {body}"
        return body["data"]["result"]

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, check: Any, timeout: float = 60) -> float:
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            seen = self.value(promql)
            if seen is not None and check(seen):
                return seen
            time.sleep(1)
        raise AssertionError(f"{promql} never satisfied the check within {timeout:.0f} s (last value {seen})")


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus not found: install Debian's `prometheus` package (apt-get install -y prometheus)")
    workdir = tmp_path_factory.mktemp("prometheus")
    shutil.copy(ROOT / "deploy" / "prometheus" / "alerts.yml", workdir / "alerts.yml")
    ports = dict(zip(JOBS, (stack.rasa_port, stack.actions_port, stack.crm_port), strict=True))
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "rule_files": ["alerts.yml"],
              "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                                 for job, port in ports.items()]}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    proc = subprocess.Popen([binary, f"--config.file={workdir / 'prometheus.yml'}",
                             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"prometheus did not start:\n{(workdir / 'prometheus.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield Prometheus(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_every_process_is_scraped_and_the_rules_load(prometheus: Prometheus) -> None:
    for job in JOBS:
        prometheus.wait_for(f'up{{job="{job}"}}', lambda up: up == 1, timeout=30)
    groups = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {"kefu-availability", "kefu-latency", "kefu-agents", "kefu-kept-work", "kefu-workers"} <= \
        {group["name"] for group in groups}
    assert prometheus.value('kefu_model_info{job="kefu-rasa"}') == 1
    age = prometheus.wait_for('time() - kefu_worker_last_success_timestamp_seconds{worker="handoff_timer"}',
                              lambda seconds: seconds < 30)
    assert age >= 0


def test_a_conversation_shows_up_in_promql(stack: Stack, prometheus: Prometheus) -> None:
    for job in JOBS:
        prometheus.wait_for(f'up{{job="{job}"}}', lambda up: up == 1, timeout=30)
    zh = 'sum(kefu_bot_messages_total{job="kefu-rasa", channel="rest", language="zh"})'
    en = 'sum(kefu_bot_messages_total{job="kefu-rasa", channel="rest", language="en"})'
    crm_calls = 'sum(kefu_crm_call_duration_seconds_count{job="kefu-actions", path="/customers/{id}/points"})'
    before = {query: prometheus.value(query) or 0.0 for query in (zh, en, crm_calls)}
    sender = f"prometheus-e2e-{uuid.uuid4().hex[:8]}"
    token = {"customer_token": stack.customer_token(4)}
    assert stack.chat(sender, "你好", token)
    assert stack.chat(sender, "我的积分还有多少？我的手机是13800000004", token)
    assert stack.chat(sender, "how many points do I have", token)

    prometheus.wait_for(zh, lambda total: total >= before[zh] + 2)
    prometheus.wait_for(en, lambda total: total >= before[en] + 1)
    prometheus.wait_for(crm_calls, lambda total: total >= before[crm_calls] + 1)
    # Over the process's lifetime: a rate() window could see this new series only once, already complete.
    p95 = prometheus.wait_for('histogram_quantile(0.95, sum by (le) (kefu_bot_reply_seconds_bucket{channel="rest"}))',
                              lambda seconds: seconds > 0)
    assert p95 < 30
    confident = prometheus.value('sum(kefu_bot_intent_confidence_count{job="kefu-rasa"})')
    assert confident is not None and confident >= 3
    assert prometheus.query('kefu_handoff_queue_length{job="kefu-crm", priority="urgent"}')

    # One id follows the conversation through Rasa, the action server and the CRM; the phone never appears.
    ref = conversation_ref(sender)
    for name in ("rasa", "actions", "crm"):
        text = (stack.var_dir / "log" / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert f"[{ref}]" in text, f"{name}.log has no line for conversation {ref}"
        assert sender not in text and "13800000004" not in text, f"{name}.log leaks the sender id or the phone"
