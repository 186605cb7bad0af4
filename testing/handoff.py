"""Shared helpers of the handoff/console/dashboard tests: a fake Rasa, agent logins, handoff bodies."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crm_backend.core.rasa import RasaClient


class FakeRasa:
    """Rasa's conversation API in memory: records pushed events, serves trackers, can be 'down'."""

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.trackers: dict[str, list[dict[str, Any]]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        parts = request.url.path.strip("/").split("/")
        conversation = parts[1]
        action = "/".join(parts[2:])
        body = json.loads(request.content) if request.content else {}
        self.calls.append((action, conversation, body))
        events = self.trackers.setdefault(conversation, [])
        if request.method == "GET":
            return httpx.Response(200, json={"sender_id": conversation, "events": events})
        if action == "tracker/events":
            events.append(body)
        if action == "trigger_intent":
            events.append({"event": "bot", "text": "CSAT?", "timestamp": time.time()})
        return httpx.Response(200, json={"sender_id": conversation, "events": events})

    def client(self) -> RasaClient:
        return RasaClient("http://rasa.test", "t", transport=httpx.MockTransport(self.handler))

    def customer_says(self, conversation: str, text: str) -> None:
        self.trackers.setdefault(conversation, []).append({"event": "user", "text": text, "timestamp": time.time()})

    def sent(self, action: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [c for c in self.calls if c[0] == action]


def login(client: TestClient, username: str, password: str | None = None) -> str:
    """Log `client` in; returns the CSRF token and sets it as a default header."""
    credentials = {"username": username, "password": password or f"{username}-pass"}
    response = client.post("/api/v1/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


@contextmanager
def another_client(app: FastAPI) -> Iterator[TestClient]:
    """A second browser on the same app (and the same test session override)."""
    with TestClient(app, raise_server_exceptions=False) as other:
        yield other


def handoff_body(conversation: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversation_id": conversation, "channel": "rest", "customer_id": 3, "reason": "customer asked for a human",
        "reason_code": "explicit_request", "priority": "normal", "language": "en",
        "transcript": [{"role": "user", "text": "where is my order KF20250003", "at": time.time() - 30},
                       {"role": "bot", "text": "It is in transit.", "at": time.time() - 29},
                       {"role": "user", "text": "human please, call me on 13800000003", "at": time.time() - 5}],
    }
    body.update(overrides)
    return body
