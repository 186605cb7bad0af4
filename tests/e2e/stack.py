"""Drive `./kefu run` from tests: start the real stack, chat with it, stop it like a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from testing.services import namespaced, port_is_free

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
READY_LINE = "Kefu is up"


@dataclass
class Stack:
    """A running `./kefu run` and the URLs and secrets a test needs to talk to it."""

    crm_port: int
    actions_port: int
    rasa_port: int
    var_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = self.var_dir / "kefu-run.out"

    @property
    def crm_url(self) -> str:
        return f"http://127.0.0.1:{self.crm_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_token(self) -> str:
        return self.env["RASA_AUTH_TOKEN"]

    @property
    def service_token(self) -> str:
        return self.env["CRM_SERVICE_TOKEN"]

    @property
    def ports(self) -> list[int]:
        return [self.crm_port, self.actions_port, self.rasa_port]

    def start(self, timeout: float = 900, command: list[str] | None = None) -> Stack:
        """Run `command` (default `./kefu run`) and wait for the banner."""
        for port in self.ports:
            assert port_is_free(port), f"port {port} is busy before the stack starts"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(command or ["./kefu", "run"], cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.text():
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"`./kefu run` exited with {self.process.returncode}:\n{self.tail()}")
            time.sleep(1)
        self.interrupt()
        raise AssertionError(f"`./kefu run` was not up after {timeout:.0f} s:\n{self.tail()}")

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace") if self.output.exists() else ""

    def tail(self, lines: int = 60) -> str:
        log_dir = self.var_dir / "log"
        logs = "".join(
            f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            for log in sorted(log_dir.glob("*.log"))
        ) if log_dir.exists() else ""
        return "\n".join(self.text().splitlines()[-lines:]) + logs

    def child_pid(self, name: str) -> int:
        return int((self.var_dir / "run" / f"{name}.pid").read_text())

    def interrupt(self, timeout: float = 60) -> int:
        """Press Ctrl-C and wait for `./kefu run` to finish."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    # ------------------------------------------------------------------ talking to it

    def customer_token(self, customer_id: int, minutes: int = 15) -> str:
        now = int(time.time())
        claims = {"sub": str(customer_id), "iat": now, "exp": now + minutes * 60}
        return jwt.encode(claims, self.env["CUSTOMER_TOKEN_SECRET"], algorithm="HS256")

    def chat(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one message through Rasa's REST channel and return the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def crm(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.service_token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.crm_url}/api/v1{path}", headers=headers, timeout=30, **kwargs)


def stack_env(var_dir: Path, crm_port: int, actions_port: int, rasa_port: int, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_", "RABBITMQ_", "KEFU_EVENT"))}
    env.update(
        KEFU_ENV="development",
        KEFU_VAR_DIR=str(var_dir),
        CRM_PORT=str(crm_port),
        ACTIONS_PORT=str(actions_port),
        RASA_PORT=str(rasa_port),
        CRM_URL=f"http://127.0.0.1:{crm_port}",
        RASA_URL=f"http://127.0.0.1:{rasa_port}",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        CRM_SERVICE_TOKEN="e2e-service-token",
        RASA_AUTH_TOKEN="e2e-rasa-token",
        CUSTOMER_TOKEN_SECRET="e2e-customer-token-secret",
        CRM_SECRET_KEY="e2e-crm-secret-key",
        # Own exchange and queue on the shared RabbitMQ: no stack sees another's events.
        KEFU_EVENTS_EXCHANGE=namespaced(f"kefu-e2e-{crm_port}"),
        KEFU_EVENTS_QUEUE=namespaced(f"kefu_events_e2e_{crm_port}"),
        # What ./kefu derives in services mode, here too for the Rasa instances tests start beside the stack.
        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/", RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT="5672",
        RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest",
        # No playbook starts on its own mid-test (a birthday greeting landing in a chat a test reads); the
        # playbook tests start runs themselves.
        PLAYBOOK_SCHEDULE_SECONDS="0",
    )
    env.update(overrides)
    return env


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages if m.get("text"))
