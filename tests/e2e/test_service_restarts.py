"""Redis, then PostgreSQL, restarted mid-conversation under a services-mode stack: it recovers without a
restart, and nothing the customer sent is lost (Rasa's tracker and the CRM's conversation store hold it all).

The machine's shared servers are never touched: the test runs its own redis-server (with an append-only
file, as a production Redis that keeps trackers would) and its own PostgreSQL cluster (initdb as the
`postgres` user) on ports of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from testing.services import port_is_free
from tests.e2e.stack import Stack, stack_env, text_of

PORTS = (18630, 18631, 18632)
PG_PORT, REDIS_PORT = 18633, 18634
SENDER = f"restart-{int(time.time())}"
ORDER_OF_CUSTOMER_3 = "KF20250003"  # demo data (crm_backend/demo/README.md)


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is not installed (Debian package postgresql)"
    return str(found[-1])


def as_postgres(*command: str) -> list[str]:
    """Run as the `postgres` user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.folder, self.process = folder, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(REDIS_PORT, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class PrivatePostgres:
    def __init__(self, folder: Path) -> None:
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        subprocess.run(as_postgres(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                   "--no-sync"), check=True, capture_output=True)

    def ctl(self, *action: str) -> None:
        options = f"-p {PG_PORT} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                                   "-w", "-m", "fast", *action), check=True, capture_output=True, timeout=120)


def wait_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while port_is_free(port):
        assert time.monotonic() < deadline, f"{what} did not listen on {port}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    for port in (PG_PORT, REDIS_PORT):
        assert port_is_free(port), f"port {port} is busy before the test starts its own server"
    folder = Path(tempfile.mkdtemp(prefix="kefu-restarts-"))
    os.chmod(folder, 0o755)
    redis_server, postgres = PrivateRedis(folder / "redis"), PrivatePostgres(folder / "pg")
    (folder / "redis").mkdir()
    try:
        redis_server.start()
        postgres.ctl("start")
        yield redis_server, postgres
    finally:
        redis_server.stop()
        try:
            postgres.ctl("stop")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(services: tuple[PrivateRedis, PrivatePostgres], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("restarts")
    env = stack_env(var_dir, *PORTS, DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/kefu",
                    REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0")
    running = Stack(*PORTS, var_dir=var_dir, env=env).start()
    yield running
    assert running.interrupt() == 0, running.tail()


def say(stack: Stack, text: str) -> str:
    reply = text_of(stack.chat(SENDER, text, {"customer_token": stack.customer_token(3)}))
    assert reply, f"no answer to {text!r} after the restart:\n{stack.tail()}"
    return reply


def tracker_user_texts(stack: Stack) -> list[str]:
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{SENDER}/tracker",
                        params={"token": stack.env["RASA_AUTH_TOKEN"]}, timeout=30).json()
    return [e["text"] for e in tracker["events"] if e.get("event") == "user"]


def stored_user_texts(stack: Stack, expected: int) -> list[str]:
    with httpx.Client(base_url=stack.crm_url, timeout=30) as client:
        login = client.post("/api/v1/auth/login", json={"username": "supervisor", "password": "supervisor-pass"})
        assert login.status_code == 200, login.text
        texts: list[str] = []
        deadline = time.monotonic() + 30
        while len(texts) < expected and time.monotonic() < deadline:
            found = [c for c in client.get("/api/v1/conversations", params={"limit": 200}).json()["items"]
                     if c["sender_id"] == SENDER]
            if found:
                turns = client.get(f"/api/v1/conversations/{found[0]['id']}").json()["turns"]
                texts = [t["text"] for t in turns if t["kind"] == "user"]
            time.sleep(0.5)
        return texts


def test_redis_then_postgresql_restart_mid_conversation(services: tuple[PrivateRedis, PrivatePostgres],
                                                        stack: Stack) -> None:
    redis_server, postgres = services
    sent = ["where is my order KF20250003?"]
    assert ORDER_OF_CUSTOMER_3 in say(stack, sent[-1])

    redis_server.stop()  # Rasa's tracker and lock stores and the CRM's bus live here
    with ThreadPoolExecutor(1) as pool:
        sent.append("我的order到了吗")
        during = pool.submit(say, stack, sent[-1])  # written while Redis is down
        time.sleep(2)
        redis_server.start()
        assert ORDER_OF_CUSTOMER_3 in during.result(timeout=90)  # answered, with the tracker's verified customer
    sent.append("where is my order?")
    assert ORDER_OF_CUSTOMER_3 in say(stack, sent[-1])

    postgres.ctl("stop")  # the CRM's database: the stream consumer must keep what arrives meanwhile
    sent.append("hello")
    say(stack, sent[-1])  # the bot answers (its CRM calls fail politely); the event waits in RabbitMQ
    postgres.ctl("start")
    sent.append("where is my order?")
    assert ORDER_OF_CUSTOMER_3 in say(stack, sent[-1])

    assert tracker_user_texts(stack) == sent, "Rasa's tracker lost or doubled a customer message"
    assert stored_user_texts(stack, len(sent)) == sent, f"the CRM's store missed a turn:\n{stack.tail()}"
    assert httpx.get(f"{stack.crm_url}/health", timeout=10).status_code == 200
