"""The action server's metrics: CRM calls seen from the bot, fallbacks and action runs, served at `/metrics`
by the rasa-sdk plugin hook (`rasa_sdk_plugins`) of a real `python -m rasa_sdk`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from action_helpers import make_tracker
from prometheus_client import REGISTRY

from actions.crm_client import CrmClient, CrmUnavailable
from actions.metrics import path_template

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("path", "template"), [
    ("/customers/1/orders/KF20250001", "/customers/{id}/orders/{order_no}"),
    ("/customers/42/points", "/customers/{id}/points"),
    ("/identity/channels/telegram/5551234567", "/identity/channels/{channel}/{sender_id}"),
    ("/tickets/T000123/status", "/tickets/{ticket_no}/status"),
    ("/handoffs", "/handoffs"),
])
def test_crm_paths_become_templates(path: str, template: str) -> None:
    assert path_template(path) == template


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.asyncio
async def test_crm_calls_are_timed_and_failures_counted(crm_url: str) -> None:
    labels = {"method": "GET", "path": "/customers/{id}", "outcome": "ok"}
    before = sample("kefu_crm_call_duration_seconds_count", **labels)
    assert (await CrmClient(crm_url).customer(3))["id"] == 3
    assert sample("kefu_crm_call_duration_seconds_count", **labels) == before + 1

    failed = {"method": "GET", "path": "/customers/{id}/points", "reason": "connection"}
    before = sample("kefu_crm_call_failures_total", **failed)
    with pytest.raises(CrmUnavailable):
        await CrmClient(f"http://127.0.0.1:{free_port()}").points(1)
    assert sample("kefu_crm_call_failures_total", **failed) == before + 1


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m rasa_sdk --actions actions`, exactly as `./kefu run` starts it."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("actions") / "actions.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEFU_ENV": "development", "KEFU_LOG_FORMAT": "json",
           "CRM_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens: the CRM is down
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the action server did not start on {url}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=15)


def action_call(action: str, sender: str, language: str) -> dict:
    tracker = make_tracker(text="asdfgh", intent="nlu_fallback", slots={"language": language})
    return {"next_action": action, "sender_id": sender, "tracker": {**tracker.current_state(), "sender_id": sender},
            "domain": {}, "version": "3.6.2"}


def test_action_server_serves_metrics_of_its_runs(action_server: str) -> None:
    for _ in range(2):
        r = requests.post(f"{action_server}/webhook", json=action_call("action_default_fallback", "conv-m1", "zh"),
                       timeout=10)
        assert r.status_code == 200, r.text
    text = requests.get(f"{action_server}/metrics", timeout=5).text
    assert 'kefu_bot_fallbacks_total{action="action_default_fallback",language="zh"} 2.0' in text
    assert 'kefu_action_duration_seconds_count{action="action_default_fallback",outcome="ok"} 2.0' in text
    assert 'kefu_http_request_duration_seconds_count{method="POST",route="/webhook",status="2xx"} 2.0' in text
    assert "conv-m1" not in text


def test_action_server_metrics_need_the_token_outside_development() -> None:
    from kefu_ops.metrics import check_access

    production = {"KEFU_ENV": "production", "METRICS_TOKEN": "t0ken-of-some-length"}
    assert check_access(None, production) is not None
    assert check_access("Bearer wrong", production).status == 401  # type: ignore[union-attr]
    assert check_access("Bearer t0ken-of-some-length", production) is None
    assert check_access(None, {"KEFU_ENV": "production"}).status == 403  # type: ignore[union-attr]
    assert check_access(None, {"KEFU_ENV": "development"}) is None
