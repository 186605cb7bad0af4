"""A second Rasa instance ("B") next to the shared stack's Rasa ("A"), plus the chat-app API stand-in.

B pulls the same model from the CRM's model server, with the same Redis tracker and lock stores
(endpoints.services.yml) and the same action server, and opens every channel (credentials.chatapps.yml)
with the chat-app APIs pointed at a local stand-in. A and B share socket.io rooms through Redis. Started once per test
session (ports 18050 and 18059) and stopped at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testing.services import port_is_free
from testing.standin_api import StandIn
from tests.e2e.stack import ROOT, Stack

RASA_B_PORT = 18050
STANDIN_PORT = 18059

TELEGRAM_TOKEN = "123456789:AAE2eTokenForKefuChannelTests_abcdefg"
TELEGRAM_SECRET = "e2e-telegram-secret"
SLACK_SIGNING_SECRET = "e2e-slack-signing-secret"
WECHAT_TOKEN = "e2e-wechat-token"


@dataclass
class RasaB:
    url: str
    standin: StandIn
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


_running: RasaB | None = None


def model_of(stack: Stack) -> str:
    """The model file the stack's Rasa serves (from its command line)."""
    args = Path(f"/proc/{stack.child_pid('rasa')}/cmdline").read_bytes().split(b"\0")
    return args[args.index(b"--model") + 1].decode()


def rasa_b_env(stack: Stack, standin_url: str) -> dict[str, str]:
    env = dict(stack.env)
    redis = urllib.parse.urlsplit(stack.env["REDIS_URL"])
    env.update(
        PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        REDIS_HOST=redis.hostname or "127.0.0.1", REDIS_PORT=str(redis.port or 6379),
        REDIS_DB=(redis.path or "/0").lstrip("/") or "0", REDIS_PASSWORD=urllib.parse.unquote(redis.password or ""),
        TELEGRAM_ACCESS_TOKEN=TELEGRAM_TOKEN, TELEGRAM_VERIFY="kefu_bot", TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{RASA_B_PORT}/webhooks/telegram/webhook",
        TELEGRAM_API_BASE_URL=standin_url,
        SLACK_TOKEN="xoxb-e2e", SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET, SLACK_API_BASE_URL=f"{standin_url}/api/",
        WECHAT_TOKEN=WECHAT_TOKEN, WECHAT_APP_ID="wx-test-app", WECHAT_APP_SECRET="wx-test-secret",
        WECHAT_API_BASE_URL=standin_url,
        # Like the stack's Rasa, B pulls the serving model from the CRM (promotions reach both, no restart).
        KEFU_MODEL_SERVER_URL=f"{stack.crm_url}/api/v1/models/serving", KEFU_MODEL_PULL_SECONDS="5",
    )
    return env


def rasa_b(stack: Stack, request: pytest.FixtureRequest, timeout: float = 600,
           endpoints: str = "endpoints.services.yml") -> RasaB:
    """Start B (once per session) and return it; B is stopped when the session ends."""
    global _running
    if _running is not None and _running.process.poll() is None:
        return _running
    for port in (RASA_B_PORT, STANDIN_PORT):
        assert port_is_free(port), f"port {port} (channels tests) is busy"
    standin = StandIn().start(STANDIN_PORT)
    log = stack.var_dir / "log" / "rasa-b.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(ROOT / ".venvs/bot/bin/python"), "-m", "bot.server", "run", "--enable-api", "--auth-token",
           stack.rasa_token, "--cors", "*", "--port", str(RASA_B_PORT), "--interface", "127.0.0.1", "--model",
           model_of(stack), "--endpoints", endpoints, "--credentials", "credentials.chatapps.yml"]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=rasa_b_env(stack, standin.base_url), stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    running = RasaB(f"http://127.0.0.1:{RASA_B_PORT}", standin, process, log)

    def stop() -> None:
        global _running
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        standin.stop()
        _running = None

    request.config.add_cleanup(stop)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Rasa B exited with {process.returncode}:\n{running.tail()}")
        try:
            if httpx.get(f"{running.url}/status", params={"token": stack.rasa_token}, timeout=3).status_code == 200:
                _running = running
                return running
        except httpx.HTTPError:
            pass
        time.sleep(2)
    stop()
    raise AssertionError(f"Rasa B was not up after {timeout:.0f} s:\n{running.tail()}")
