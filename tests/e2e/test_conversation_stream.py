"""The conversation stream through the real product: `./kefu run` in embedded mode (Rasa's SQL event broker
into $KEFU_VAR_DIR/events.db, no broker server) stores what a customer says, with intent and confidence, in the
CRM's conversation store, with the phone number redacted. (Services mode — Pika → RabbitMQ — is exercised by
tests/e2e/test_handoff_browser.py, whose customer turns reach the console only through the stream.)
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.stack import Stack, stack_env

PORTS = (18137, 18138, 18139)


def test_embedded_run_stores_the_conversation_from_rasas_sql_event_broker(tmp_path: Path) -> None:
    env = stack_env(tmp_path, *PORTS, DATABASE_URL=f"sqlite:///{tmp_path / 'kefu.db'}")
    stack = Stack(*PORTS, var_dir=tmp_path, env=env).start()
    try:
        sender = f"stream-{int(time.time())}"
        assert stack.chat(sender, "你好"), "the bot must answer"
        stack.chat(sender, "我的电话是 13812345678")
        assert (tmp_path / "events.db").exists(), "Rasa's SQL event broker wrote no file"
        with httpx.Client(base_url=stack.crm_url, timeout=10) as client:
            login = client.post("/api/v1/auth/login", json={"username": "supervisor", "password": "supervisor-pass"})
            assert login.status_code == 200, login.text
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            found: list[dict] = []
            deadline = time.monotonic() + 20
            while not found and time.monotonic() < deadline:
                found = [c for c in client.get("/api/v1/conversations", params={"q": "13812345678"}).json()["items"]]
                found = found or [c for c in client.get("/api/v1/conversations", params={"q": "[PHONE]"})
                                  .json()["items"] if c["sender_id"] == sender]
                time.sleep(0.3)
            assert [c["sender_id"] for c in found] == [sender], "the conversation never reached the CRM"
            transcript = client.get(f"/api/v1/conversations/{found[0]['id']}").json()
        users = [t for t in transcript["turns"] if t["kind"] == "user"]
        assert [t["text"] for t in users] == ["你好", "我的电话是 [PHONE]"]
        assert all(t["intent"] and t["confidence"] is not None for t in users)
        assert any(t["kind"] == "bot" for t in transcript["turns"])
        assert transcript["conversation"]["channel"] == "rest"
    finally:
        assert stack.interrupt() == 0
