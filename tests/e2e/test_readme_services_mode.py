"""The README followed literally: its services-mode command on a database that does not exist yet, then
every command the start banner prints, used while the stack runs, then Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from scripts.kefu_cli.config import dev_secrets
from testing.services import database_exists, drop_database, fresh_redis_url, namespaced, port_is_free, track_database
from tests.e2e.stack import ROOT, Stack, stack_env

PORTS = (18036, 18037, 18038)
DATABASE = namespaced("kefu_e2e_readme")
REDIS_DB = 7
WANG_WEI = 1  # demo customer (crm_backend/demo/README.md)


def readme_services_command() -> str:
    """The one line of README.md that starts Kefu in services mode."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("DATABASE_URL=") and line.strip().endswith("./kefu run")]
    assert len(lines) == 1, f"README.md should hold one services-mode command, found {lines}"
    return lines[0]


def on_test_services(command: str, database: str, redis_url: str) -> str:
    """The README command with only the database name and the Redis database replaced (this run's own)."""
    changed = re.sub(r"(DATABASE_URL=\S+/)kefu(\s)", rf"\g<1>{database}\g<2>", command)
    changed = re.sub(r"REDIS_URL=\S+", f"REDIS_URL={redis_url}", changed)
    assert database in changed and redis_url in changed, f"the README command changed shape: {command}"
    return changed


@pytest.fixture(scope="module")
def readme_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    drop_database(DATABASE)
    track_database(DATABASE)  # `./kefu run` creates it; this process drops it at exit
    redis_url = fresh_redis_url(REDIS_DB)
    command = on_test_services(readme_services_command(), DATABASE, redis_url)
    var_dir = tmp_path_factory.mktemp("readme")
    # A newcomer has no secrets set: the stack runs on the development values of .env.example.
    stack = Stack(*PORTS, var_dir=var_dir, env=stack_env(var_dir, *PORTS, **dev_secrets()))
    stack.start(command=["bash", "-c", command])
    yield stack
    code = stack.interrupt()
    assert code == 0, f"Ctrl-C should stop the stack cleanly, got exit {code}:\n{stack.tail()}"
    assert all(port_is_free(port) for port in PORTS), "a server still listens after Ctrl-C"


def test_the_playbook_worker_consumes_the_redis_queue(readme_stack: Stack) -> None:
    """Services mode queues deliveries on Redis: `./kefu run` started a worker that takes them off the queue."""
    from crm_backend.playbook.queue import QUEUE, Queue

    assert "starting the playbook worker" in readme_stack.text()
    os.kill(readme_stack.child_pid("playbook-worker"), 0)  # raises if it is not running
    producer = Queue(f"redis://127.0.0.1:6379/{REDIS_DB}", start_worker=False)
    try:
        producer.enqueue([2_000_000_000])  # no such delivery: the job runs, finds nothing, is acknowledged
    finally:
        producer.close()
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    messages = f"{producer.broker.namespace}:{QUEUE}.msgs"
    deadline = time.monotonic() + 30
    while client.hlen(messages) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.hlen(messages) == 0, f"the worker did not take the job:\n{readme_stack.tail()}"


def banner(stack: Stack) -> list[str]:
    text = stack.text()
    return text[text.index("Kefu is up"):].splitlines()


def test_the_missing_database_was_created_and_used(readme_stack: Stack) -> None:
    assert f"database '{DATABASE}' did not exist on" in readme_stack.text(), readme_stack.tail()
    assert database_exists(DATABASE)
    assert "PostgreSQL/DB" in banner(readme_stack)[0] and "Redis" in banner(readme_stack)[0]
    # Rasa keeps its trackers in the README's Redis: chatting fills that database.
    readme_stack.chat("readme-redis", "你好")
    assert redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").dbsize() > 0


def test_every_url_in_the_banner_answers(readme_stack: Stack) -> None:
    urls = [url for line in banner(readme_stack) for url in re.findall(r"https?://[^\s'/]+(?:/[\w./-]*)?", line)
            if "/webhooks/" not in url]
    assert len(urls) >= 4, banner(readme_stack)
    for url in urls:
        answer = httpx.get(url, timeout=30, follow_redirects=True)
        assert answer.status_code == 200, f"{url} → {answer.status_code}"


def test_the_banner_curl_command_chats(readme_stack: Stack) -> None:
    lines = banner(readme_stack)
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    command = lines[start].strip().rstrip("\\") + " " + lines[start + 1].strip()
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"text"' in done.stdout, f"the banner's curl got no answer: {done.stdout!r}"


def chat_command(readme_stack: Stack) -> list[str]:
    line = next(line.strip() for line in banner(readme_stack) if "scripts/chat.py" in line)
    assert "rasa shell" not in readme_stack.text(), "the banner must not suggest commands that need the stack stopped"
    return shlex.split(line)


def test_the_banner_chat_command_talks_restarts_and_quits(readme_stack: Stack) -> None:
    sender = "readme-terminal"
    command = chat_command(readme_stack) + ["--sender", sender]
    assert command[0] == "python3"
    chat = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=newcomer_env(readme_stack))
    assert chat.stdin is not None
    # stdin stays open: only /quit can end the client.
    chat.stdin.write("hello\n/restart\n/quit\n")
    chat.stdin.flush()
    try:
        code = chat.wait(timeout=120)
    finally:
        if chat.poll() is None:
            chat.kill()
    assert chat.stdout is not None and chat.stderr is not None
    out, err = chat.stdout.read(), chat.stderr.read()
    assert code == 0, err
    assert "kefu> " in out and "(new conversation)" in out, out
    tracker = httpx.get(f"{readme_stack.rasa_url}/conversations/{sender}/tracker",
                        params={"token": readme_stack.rasa_token, "include_events": "ALL"}, timeout=30).json()
    assert "restart" in [event["event"] for event in tracker["events"]], "/restart must restart the conversation"
    assert "/quit" not in [e.get("text") for e in tracker["events"] if e["event"] == "user"], "/quit reached Rasa"


def newcomer_env(stack: Stack) -> dict[str, str]:
    """Another terminal: no Kefu secrets in the environment."""
    return {k: v for k, v in stack.env.items() if k not in dev_secrets()}


def test_the_banner_chat_command_as_a_verified_customer(readme_stack: Stack) -> None:
    balance = readme_stack.crm("GET", f"/customers/{WANG_WEI}/points").json()["balance"]
    command = chat_command(readme_stack) + ["--customer", str(WANG_WEI)]
    done = subprocess.run(command, cwd=ROOT, input="what is my points balance?\n", capture_output=True, text=True,
                          timeout=120, env=newcomer_env(readme_stack))
    assert done.returncode == 0, done.stderr
    assert f"{balance:,}" in done.stdout or str(balance) in done.stdout, done.stdout


def test_chat_help_documents_the_commands() -> None:
    done = subprocess.run([sys.executable, "scripts/chat.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0 and "/restart" in done.stdout and "/quit" in done.stdout, done.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "/restart" in readme and "/quit" in readme


def test_the_readme_curl_commands_chat_anonymously_and_as_a_verified_customer(readme_stack: Stack) -> None:
    """README "How to chat" → curl, with only the Rasa port changed to this stack's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("- **curl** (REST channel):"):]
    block = block[block.index("```bash") + len("```bash"):]
    script = block[:block.index("```")].replace("localhost:5005", f"127.0.0.1:{readme_stack.rasa_port}")
    assert script.count(f"127.0.0.1:{readme_stack.rasa_port}") == 2, script
    balance = readme_stack.crm("GET", f"/customers/{WANG_WEI}/points").json()["balance"]
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env=newcomer_env(readme_stack))
    assert done.returncode == 0, done.stderr
    anonymous, verified = done.stdout.split("]", 1)
    assert '"text"' in anonymous, done.stdout
    assert f"{balance:,}" in verified or str(balance) in verified, f"no balance {balance} in {verified!r}"
